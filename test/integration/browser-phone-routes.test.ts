import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { CallSessionEvent } from '../../src/dialog/call-events.js';
import type { AgentTurn, CallRecord } from '../../src/store/call-record.js';
import { AmplitudeVad, ScriptedBrain, ScriptedStt, WordLengthTts } from '../../testkit/fakes/scripted-engines.js';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { startTestServer, type TestServer } from '../../testkit/helpers/test-app.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface PhoneSession {
  token: string;
  eventsToken: string;
  expiresAt: string;
  mediaUrl: string;
  eventsUrl: string;
  subprotocol: string;
}

async function newSession(s: TestServer): Promise<PhoneSession> {
  const res = await fetch(`${s.url}/phone/session`, { method: 'POST' });
  expect(res.status).toBe(200);
  return (await res.json()) as PhoneSession;
}

function engines() {
  return {
    vad: new AmplitudeVad(),
    stt: new ScriptedStt(['book an appointment']),
    tts: new WordLengthTts(),
    brain: new ScriptedBrain((input) => [{ type: 'text', text: input.type === 'speech' ? 'Sure, Tuesday at nine works.' : 'Hello, how can I help?' }]),
  };
}

describe('browser phone page', () => {
  it('serves the page and its scripts from the app itself', async () => {
    server = await startTestServer();
    const page = await server.app.fastify.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.body).toContain('/phone/phone.js');
    for (const asset of ['phone.js', 'phone-worklet.js', 'g711.js', 'phone.css']) {
      const res = await server.app.fastify.inject({ url: `/phone/${asset}` });
      expect(res.statusCode, asset).toBe(200);
    }
    expect((await server.app.fastify.inject({ url: '/phone/../package.json' })).statusCode).toBe(404);
    expect((await server.app.fastify.inject({ url: '/phone/secrets.txt' })).statusCode).toBe(404);
  });
});

describe('POST /phone/session', () => {
  it('answers loopback callers with a single-use token and the socket URLs', async () => {
    server = await startTestServer();
    const session = await newSession(server);
    expect(session.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.eventsToken).not.toBe(session.token);
    expect(Date.parse(session.expiresAt) - Date.now()).toBeGreaterThan(50_000);
    expect(session.mediaUrl).toBe(`${server.wsUrl}`);
    expect(session.eventsUrl).toBe(server.wsUrl.replace(/\/media$/, '/phone/events'));
  });

  it('refuses other addresses without ADMIN_TOKEN', async () => {
    server = await startTestServer();
    const res = await server.app.fastify.inject({ method: 'POST', url: '/phone/session', remoteAddress: '203.0.113.9' });
    expect(res.statusCode).toBe(403);
  });

  it('refuses loopback connections that come through a proxy, tunnel or rebound DNS name without ADMIN_TOKEN', async () => {
    server = await startTestServer();
    const post = (headers: Record<string, string>) =>
      server!.app.fastify.inject({ method: 'POST', url: '/phone/session', remoteAddress: '127.0.0.1', headers });
    expect((await post({ host: 'localhost:8080' })).statusCode).toBe(200);
    expect((await post({ host: '[::1]:8080' })).statusCode).toBe(200);
    expect((await post({ host: 'abc123.ngrok.app' })).statusCode).toBe(403);
    expect((await post({ host: 'localhost:8080', 'x-forwarded-for': '198.51.100.7' })).statusCode).toBe(403);
  });

  it('accepts other addresses with the admin bearer token, and only with it', async () => {
    server = await startTestServer({ env: { ADMIN_TOKEN: 'admin-secret' } });
    const remoteAddress = '203.0.113.9';
    const bad = await server.app.fastify.inject({ method: 'POST', url: '/phone/session', remoteAddress, headers: { authorization: 'Bearer nope' } });
    expect(bad.statusCode).toBe(401);
    const ok = await server.app.fastify.inject({ method: 'POST', url: '/phone/session', remoteAddress, headers: { authorization: 'Bearer admin-secret' } });
    expect(ok.statusCode).toBe(200);
  });
});

describe('media upgrade with TWILIO_AUTH_TOKEN set', () => {
  const env = { TWILIO_AUTH_TOKEN: 'twilio-secret', PUBLIC_URL: 'https://agent.example.com' };

  it('is refused with neither a Twilio signature nor a phone token', async () => {
    server = await startTestServer({ env });
    await expect(new FakeTwilioCaller({ url: server.wsUrl }).opened()).rejects.toThrow(/403/);
    const wrong = new FakeTwilioCaller({ url: server.wsUrl, protocols: ['voice-agent-phone', 'token.not-a-real-token'] });
    await expect(wrong.opened()).rejects.toThrow(/403/);
    expect(server.app.context.calls.active).toBe(0);
  });

  it('admits a phone token once; the events token does not open /media', async () => {
    server = await startTestServer({ env });
    const session = await newSession(server);
    const misuse = new FakeTwilioCaller({ url: session.mediaUrl, protocols: [session.subprotocol, `token.${session.eventsToken}`] });
    await expect(misuse.opened()).rejects.toThrow(/403/);
    const first = new FakeTwilioCaller({ url: session.mediaUrl, protocols: [session.subprotocol, `token.${session.token}`] });
    await first.opened();
    expect(first.ws.protocol).toBe('voice-agent-phone'); // the token is never echoed back
    const replay = new FakeTwilioCaller({ url: session.mediaUrl, protocols: [session.subprotocol, `token.${session.token}`] });
    await expect(replay.opened()).rejects.toThrow(/403/);
    first.close();
  });
});

describe('live event socket', () => {
  it('streams the session’s own events for the call its token belongs to', async () => {
    server = await startTestServer({ env: { TWILIO_AUTH_TOKEN: 'twilio-secret', PUBLIC_URL: 'https://agent.example.com' }, engines });
    const session = await newSession(server);
    const events: CallSessionEvent[] = [];
    const eventSocket = new WebSocket(session.eventsUrl, [session.subprotocol, `token.${session.eventsToken}`]);
    eventSocket.on('message', (data) => events.push(JSON.parse(data.toString()) as CallSessionEvent));
    await new Promise((resolve, reject) => eventSocket.once('open', resolve).once('error', reject));
    const eventsClosed = new Promise((resolve) => eventSocket.once('close', resolve));

    const caller = new FakeTwilioCaller({ url: session.mediaUrl, protocols: [session.subprotocol, `token.${session.token}`], playback: 'realtime' });
    await caller.start();
    await caller.waitFor(() => events.some((e) => e.type === 'agent-turn'), 5000, 'greeting event');
    await caller.speak(400);
    await caller.silence(500);
    await caller.waitFor(() => events.some((e) => e.type === 'agent-turn' && e.text.startsWith('Sure')), 5000, 'reply event');
    caller.stop();
    await eventsClosed;

    expect(events[0]).toEqual({ type: 'call-started', callSid: caller.callSid, streamSid: caller.streamSid });
    expect(events).toContainEqual({ type: 'caller-turn', turnId: 1, text: 'book an appointment', input: 'speech' });
    const timings = events.filter((e) => e.type === 'turn-metrics').at(-1);
    expect(timings).toMatchObject({ turnId: 1, metrics: { ttfaMs: expect.any(Number), endpointMs: expect.any(Number), sttMs: expect.any(Number) } });
    expect(events.at(-1)).toEqual({ type: 'call-ended', reason: 'caller-hangup' });

    // The same call, as recorded: the page sees what the record holds.
    await server.app.context.records.flush();
    const record = (await server.app.context.records.get(caller.callSid)) as CallRecord;
    const reply = record.turns[2] as AgentTurn;
    expect(reply).toMatchObject({ role: 'agent', text: 'Sure, Tuesday at nine works.', heardText: 'Sure, Tuesday at nine works.' });
  });

  it('refuses an events upgrade without a valid token', async () => {
    server = await startTestServer();
    const socket = new WebSocket(server.wsUrl.replace(/\/media$/, '/phone/events'), ['voice-agent-phone', 'token.bogus']);
    const status = await new Promise<number | undefined>((resolve) => {
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode));
      socket.once('open', () => resolve(101));
    });
    expect(status).toBe(403);
  });
});
