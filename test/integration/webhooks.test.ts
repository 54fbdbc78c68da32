import twilio from 'twilio';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { startTestServer, type TestServer } from '../../testkit/helpers/test-app.js';

const TOKEN = 'test-auth-token-0123456789abcdef';
const PUBLIC = 'https://agent.example.com';
const form = { CallSid: 'CA0123', From: '+15551230000', To: '+15559870000', AccountSid: 'AC1' };

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const sign = (url: string, params: Record<string, string>) => twilio.getExpectedTwilioSignature(TOKEN, url, params);
const body = (params: Record<string, string>) => new URLSearchParams(params).toString();
const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };

describe('POST /voice', () => {
  it('answers TwiML that opens a bidirectional stream with parameters, then hangs up', async () => {
    server = await startTestServer({ env: { TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_URL: PUBLIC } });
    const res = await server.app.fastify.inject({
      method: 'POST',
      url: '/voice',
      headers: { ...formHeaders, 'x-twilio-signature': sign(`${PUBLIC}/voice`, form) },
      payload: body(form),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    expect(res.body.replace(/name="streamTicket" value="[^"]+"/, 'name="streamTicket" value="TICKET"')).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Connect>' +
        '<Stream url="wss://agent.example.com/media" statusCallback="https://agent.example.com/voice/status" statusCallbackMethod="POST">' +
        '<Parameter name="callSid" value="CA0123"/><Parameter name="from" value="+15551230000"/><Parameter name="to" value="+15559870000"/>' +
        '<Parameter name="streamTicket" value="TICKET"/></Stream></Connect><Hangup/></Response>',
    );
  });

  it.each([
    ['missing signature', undefined],
    ['wrong signature', 'bm90IGEgc2lnbmF0dXJl'],
    ['signature over another URL', sign('https://evil.example.com/voice', form)],
    ['signature over other params', sign(`${PUBLIC}/voice`, { ...form, From: '+19999999999' })],
  ])('403 on %s', async (_name, signature) => {
    server = await startTestServer({ env: { TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_URL: PUBLIC } });
    const res = await server.app.fastify.inject({
      method: 'POST',
      url: '/voice',
      headers: { ...formHeaders, ...(signature ? { 'x-twilio-signature': signature } : {}) },
      payload: body(form),
    });
    expect(res.statusCode).toBe(403);
    expect(res.body).not.toContain('<Response>');
  });

  it('without PUBLIC_URL, validates against Host and X-Forwarded-Proto from a trusted proxy', async () => {
    server = await startTestServer({ env: { TWILIO_AUTH_TOKEN: TOKEN, TRUST_PROXY: '127.0.0.1' } });
    const res = await server.app.fastify.inject({
      method: 'POST',
      url: '/voice',
      headers: {
        ...formHeaders,
        host: 'abc123.ngrok.app',
        'x-forwarded-proto': 'https',
        'x-twilio-signature': sign('https://abc123.ngrok.app/voice', form),
      },
      payload: body(form),
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('url="wss://abc123.ngrok.app/media"');
  });

  it('accepts unsigned webhooks when no auth token is configured (development mode)', async () => {
    server = await startTestServer();
    const res = await server.app.fastify.inject({ method: 'POST', url: '/voice', headers: formHeaders, payload: body(form) });
    expect(res.statusCode).toBe(200);
  });

  it('400 on a webhook without CallSid', async () => {
    server = await startTestServer();
    const res = await server.app.fastify.inject({ method: 'POST', url: '/voice', headers: formHeaders, payload: 'From=%2B1' });
    expect(res.statusCode).toBe(400);
  });

  it('over capacity: a polite spoken refusal and a hang-up, and /readyz says so', async () => {
    server = await startTestServer({ env: { MAX_CONCURRENT_CALLS: '1' } });
    const caller = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant' });
    await caller.start();
    await caller.waitFor(() => server!.app.context.calls.active === 1, 5000, 'call active');
    const res = await server.app.fastify.inject({ method: 'POST', url: '/voice', headers: formHeaders, payload: body(form) });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/<Response><Say>Sorry, all of our lines are busy[^<]*<\/Say><Hangup\/><\/Response>/);
    expect(res.body).not.toContain('<Connect>');
    expect((await server.app.fastify.inject({ url: '/readyz' })).statusCode).toBe(503);
    caller.stop();
    await caller.waitFor(() => server!.app.context.calls.active === 0, 5000, 'call ended');
    caller.close();
    expect((await server.app.fastify.inject({ url: '/readyz' })).statusCode).toBe(200);
  });
});

describe('POST /voice/status', () => {
  it('checks the signature, answers 204 and puts stream errors into the call record', async () => {
    server = await startTestServer({ env: { TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_URL: PUBLIC } });
    const bad = await server.app.fastify.inject({ method: 'POST', url: '/voice/status', headers: formHeaders, payload: body({ CallSid: 'CA1' }) });
    expect(bad.statusCode).toBe(403);

    const signature = sign('wss://agent.example.com/media', {});
    const caller = new FakeTwilioCaller({
      url: server.wsUrl,
      headers: { 'x-twilio-signature': signature },
      playback: 'instant',
      announce: { headers: (params) => ({ 'x-twilio-signature': sign(`${PUBLIC}/voice`, params) }) },
    });
    await caller.start();
    await caller.waitFor(() => server!.app.context.calls.active === 1, 5000, 'call active');
    const status = { CallSid: caller.callSid, StreamSid: caller.streamSid, StreamEvent: 'stream-error', StreamError: 'Stream - WebSocket - Protocol Error', Timestamp: '2026-11-23T20:00:00Z' };
    const res = await server.app.fastify.inject({
      method: 'POST',
      url: '/voice/status',
      headers: { ...formHeaders, 'x-twilio-signature': sign(`${PUBLIC}/voice/status`, status) },
      payload: body(status),
    });
    expect(res.statusCode).toBe(204);
    caller.stop();
    await caller.waitFor(() => server!.app.context.calls.active === 0, 5000, 'call ended');
    caller.close();
    await server.app.context.records.flush();
    const record = await server.app.context.records.get(caller.callSid);
    expect(record?.streamEvents).toEqual([{ event: 'stream-error', error: 'Stream - WebSocket - Protocol Error', at: '2026-11-23T20:00:00Z' }]);
  });
});

describe('GET /media upgrade', () => {
  it('accepts a signature computed over the wss:// URL with no params', async () => {
    server = await startTestServer({ env: { TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_URL: PUBLIC } });
    const caller = new FakeTwilioCaller({ url: server.wsUrl, headers: { 'x-twilio-signature': sign('wss://agent.example.com/media', {}) } });
    await caller.opened();
    caller.close();
  });

  it.each([
    ['no signature', {}],
    ['a signature over the https:// URL', { 'x-twilio-signature': sign('https://agent.example.com/media', {}) }],
    ['a wrong signature', { 'x-twilio-signature': 'AAAA' }],
  ])('rejects %s with 403 before any session exists', async (_name, headers) => {
    server = await startTestServer({ env: { TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_URL: PUBLIC } });
    const caller = new FakeTwilioCaller({ url: server.wsUrl, headers });
    await expect(caller.opened()).rejects.toThrow(/403/);
    expect(server.app.context.calls.active).toBe(0);
  });
});

describe('ops endpoints', () => {
  it('healthz, readyz, metrics', async () => {
    server = await startTestServer();
    expect((await server.app.fastify.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await server.app.fastify.inject({ url: '/readyz' })).statusCode).toBe(200);
    const metrics = await server.app.fastify.inject({ url: '/metrics' });
    expect(metrics.body).toContain('voice_calls_active');
    expect(metrics.body).toContain('voice_ttfa_seconds');
  });

  it('call records need the admin token, or loopback when none is set', async () => {
    server = await startTestServer({ env: { ADMIN_TOKEN: 's3cret' } });
    expect((await server.app.fastify.inject({ url: '/calls/CA1' })).statusCode).toBe(401);
    expect((await server.app.fastify.inject({ url: '/calls/CA1', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
    expect((await server.app.fastify.inject({ url: '/calls/CA1', headers: { authorization: 'Bearer s3cret' } })).statusCode).toBe(404);
    await server.close();
    server = await startTestServer();
    expect((await server.app.fastify.inject({ url: '/calls/CA1', remoteAddress: '10.0.0.5' })).statusCode).toBe(403);
    expect((await server.app.fastify.inject({ url: '/calls/CA1', remoteAddress: '127.0.0.1' })).statusCode).toBe(404);
  });

  it('drain: readyz 503 and new calls refused while live calls finish', async () => {
    server = await startTestServer();
    const caller = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant' });
    await caller.start();
    await caller.waitFor(() => server!.app.context.calls.active === 1, 5000, 'call active');
    const draining = server.app.drain(5000);
    expect((await server.app.fastify.inject({ url: '/readyz' })).statusCode).toBe(503);
    const refused = await server.app.fastify.inject({ method: 'POST', url: '/voice', headers: formHeaders, payload: body(form) });
    expect(refused.body).toContain('<Say>');
    caller.stop();
    await draining;
    expect(server.app.context.calls.active).toBe(0);
    caller.close();
  });
});

describe('ops endpoints behind a local tunnel', () => {
  it.each([
    ['X-Forwarded-For', { 'x-forwarded-for': '203.0.113.9' }],
    ['Forwarded', { forwarded: 'for=203.0.113.9' }],
    ['X-Real-IP (nginx)', { 'x-real-ip': '203.0.113.9' }],
    ['X-Forwarded-Proto only', { 'x-forwarded-proto': 'https' }],
    ['a foreign Host (DNS rebinding)', { host: 'evil.example.com' }],
  ])('without ADMIN_TOKEN, a loopback request with %s is refused', async (_name, headers) => {
    server = await startTestServer();
    const res = await server.app.fastify.inject({ url: '/calls/CA1', remoteAddress: '127.0.0.1', headers });
    expect(res.statusCode).toBe(403);
  });
});
