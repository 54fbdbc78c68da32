/**
 * Issue 10: what one hostile client may no longer do to the server (each case failed before).
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/env.js';
import { TwilioInboundMessages } from '../../testkit/twilio/twilio-inbound.js';
import { announceCall } from '../../testkit/twilio/announce-call.js';
import { MAX_STREAM_EVENTS } from '../../src/call-manager.js';
import { openDatabase } from '../../src/store/database.js';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { until } from '../../testkit/helpers/process.js';
import { startTestServer, type TestServer } from '../../testkit/helpers/test-app.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const closeCode = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
const opened = (ws: WebSocket) => new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));

describe('call identity', () => {
  it('refuses a start whose callSid is already live (1008), whatever streamSid it claims', async () => {
    server = await startTestServer();
    const first = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant', callSid: 'CAlive1' });
    await first.start();
    await first.waitFor(() => server!.app.context.calls.active === 1, 5000, 'first call');
    const again = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant', callSid: 'CAlive1' });
    await again.start();
    expect(await again.closed()).toBe(1008);
    expect(server.app.context.calls.active).toBe(1);
    first.stop();
    first.close();
  });

  it('sockets reusing one streamSid are separate calls, counted as such', async () => {
    server = await startTestServer();
    const callers = [0, 1, 2].map(() => new FakeTwilioCaller({ url: server!.wsUrl, playback: 'instant', streamSid: 'MZsame' }));
    for (const caller of callers) await caller.start();
    await callers[0]!.waitFor(() => server!.app.context.calls.active === 3, 5000, 'three calls');
    const ready = (await server.app.fastify.inject({ url: '/readyz' })).json() as { activeCalls: number; openSockets: number };
    expect(ready).toMatchObject({ activeCalls: 3, openSockets: 3 });
    for (const caller of callers) caller.close();
    await callers[0]!.waitFor(() => server!.app.context.calls.active === 0, 5000, 'calls ended');
  });

  it('refuses an unannounced, forged or replayed stream (1008)', async () => {
    server = await startTestServer();
    const unannounced = new FakeTwilioCaller({ url: server.wsUrl, announce: false });
    await unannounced.start();
    expect(await unannounced.closed()).toBe(1008);

    const params = await announceCall(server.wsUrl, { callSid: 'CAreal', from: '+15551230000', to: '+15559870000' });
    expect(params.streamTicket).toMatch(/\./);
    const forged = new WebSocket(server.wsUrl);
    await opened(forged);
    const msgs = new TwilioInboundMessages('CAreal', 'MZ1');
    forged.send(JSON.stringify(msgs.start({ ...params, from: '+19999999999' })));
    expect(await closeCode(forged)).toBe(1008);

    const real = new WebSocket(server.wsUrl);
    await opened(real);
    real.send(JSON.stringify(new TwilioInboundMessages('CAreal', 'MZ2').start(params)));
    await new Promise((r) => setTimeout(r, 300));
    expect(server.app.context.calls.active).toBe(1);
    real.close();
    await new Promise((r) => setTimeout(r, 300));
    const replay = new WebSocket(server.wsUrl);
    await opened(replay);
    replay.send(JSON.stringify(new TwilioInboundMessages('CAreal', 'MZ3').start(params)));
    expect(await closeCode(replay)).toBe(1008);
  });
});

describe('sockets that misbehave', () => {
  it('closes a socket that sends no start within 5 s, and records nothing for it', async () => {
    server = await startTestServer({ agent: { recording: { enabled: true } } });
    const idle = new WebSocket(server.wsUrl);
    await opened(idle);
    idle.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    const started = Date.now();
    expect(await closeCode(idle)).toBe(1008);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
    await until(() => server!.app.context.calls.sockets === 0, 'socket released');
    await server.app.context.recordings?.flush();
    expect(existsSync(join(server.dataDir, 'recordings'))).toBe(false);
  }, 15_000);

  it('caps open sockets per address', async () => {
    server = await startTestServer({ env: { MAX_SOCKETS_PER_ADDRESS: '3' } });
    const sockets = [0, 1, 2].map(() => new WebSocket(server!.wsUrl));
    await Promise.all(sockets.map(opened));
    const fourth = new WebSocket(server.wsUrl);
    const status = await new Promise<number>((resolve) => fourth.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(429);
    for (const s of sockets) s.close();
  });

  it('closes a socket after too many malformed frames', async () => {
    server = await startTestServer();
    const ws = new WebSocket(server.wsUrl);
    await opened(ws);
    const closed = closeCode(ws);
    for (let i = 0; i < 60; i++) ws.send('not json');
    expect(await closed).toBe(1008);
  });

  it('cuts off a socket sending valid frames far faster than real time', async () => {
    server = await startTestServer();
    const caller = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant' });
    await caller.start();
    await caller.waitFor(() => server!.app.context.calls.active === 1, 5000, 'call');
    const closed = caller.closed();
    // 5,000 frames (100 s of audio) at once.
    await caller.silence(100_000, true);
    expect(await closed).toBe(1008);
    await caller.waitFor(() => server!.app.context.calls.active === 0, 5000, 'call ended');
  });

  it('a plain GET on /media does not use up a browser-phone token', async () => {
    server = await startTestServer();
    const session = (await server.app.fastify.inject({ method: 'POST', url: '/phone/session', remoteAddress: '127.0.0.1' })).json() as { token: string; mediaUrl: string; subprotocol: string };
    const plain = await fetch(`${server.url}/media`, { headers: { 'sec-websocket-protocol': `${session.subprotocol}, token.${session.token}` } });
    expect(plain.status).toBe(426);
    const phone = new FakeTwilioCaller({ url: server.wsUrl, protocols: [session.subprotocol, `token.${session.token}`] });
    await phone.opened();
    phone.close();
  });
});

describe('status callbacks', () => {
  it('keeps at most MAX_STREAM_EVENTS, and concurrent callbacks lose nothing below it', async () => {
    server = await startTestServer();
    const caller = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant' });
    await caller.start();
    await caller.waitFor(() => server!.app.context.calls.active === 1, 5000, 'call');
    caller.stop();
    await caller.waitFor(() => server!.app.context.calls.active === 0, 5000, 'call ended');
    caller.close();
    const post = (i: number) =>
      server!.app.fastify.inject({
        method: 'POST',
        url: '/voice/status',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ CallSid: caller.callSid, StreamEvent: `stream-stopped-${i}`, StreamError: 'x'.repeat(10_000) }).toString(),
      });
    await Promise.all(Array.from({ length: 10 }, (_, i) => post(i)));
    let record = await server.app.context.records.get(caller.callSid);
    expect(record?.streamEvents).toHaveLength(10);
    await Promise.all(Array.from({ length: 40 }, (_, i) => post(10 + i)));
    record = await server.app.context.records.get(caller.callSid);
    expect(record?.streamEvents).toHaveLength(MAX_STREAM_EVENTS);
    expect(JSON.stringify(record).length).toBeLessThan(50_000);
  });
});

describe('data at rest', () => {
  it('agent.db is 0600', () => {
    const dir = mkdtempSync(join(tmpdir(), 'db-mode-'));
    const db = openDatabase({ dataDir: dir });
    expect(statSync(join(dir, 'agent.db')).mode & 0o777).toBe(0o600);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('DATA_DIR and calls/ are 0700, records and recordings 0600', async () => {
    server = await startTestServer({ agent: { recording: { enabled: true } } });
    const caller = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant' });
    await caller.start();
    await caller.waitFor(() => server!.app.context.calls.active === 1, 5000, 'call');
    caller.stop();
    await caller.waitFor(() => server!.app.context.calls.active === 0, 5000, 'call ended');
    caller.close();
    await server.app.context.records.flush();
    expect(statSync(server.dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(server.dataDir, 'calls')).mode & 0o777).toBe(0o700);
    expect(statSync(join(server.dataDir, 'calls', `${caller.callSid}.json`)).mode & 0o777).toBe(0o600);
    await until(() => existsSync(join(server!.dataDir, 'recordings', caller.callSid, 'events.jsonl')), 'recording');
    expect(statSync(join(server.dataDir, 'recordings', caller.callSid, 'events.jsonl')).mode & 0o777).toBe(0o600);
  });
});

describe('trust', () => {
  it('refuses to start with TWILIO_AUTH_TOKEN and neither PUBLIC_URL nor TRUST_PROXY', () => {
    expect(() => loadServerConfig({ TWILIO_AUTH_TOKEN: 'x' })).toThrow(/PUBLIC_URL.*TRUST_PROXY/);
    expect(loadServerConfig({ TWILIO_AUTH_TOKEN: 'x', TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' }).trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8']);
  });

  it('without TRUST_PROXY, X-Forwarded-Host does not change the stream URL', async () => {
    server = await startTestServer();
    const res = await server.app.fastify.inject({
      method: 'POST',
      url: '/voice',
      headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'agent.local', 'x-forwarded-host': 'evil.example.com', 'x-forwarded-proto': 'https' },
      payload: 'CallSid=CA1&From=%2B1555&To=%2B1666',
    });
    expect(res.body).toContain('url="ws://agent.local/media"');
  });

  it('without ADMIN_TOKEN and with a trusted proxy, ops routes are not served even on loopback', async () => {
    server = await startTestServer({ env: { TRUST_PROXY: '127.0.0.1' } });
    const res = await server.app.fastify.inject({ url: '/calls/CA1', remoteAddress: '127.0.0.1' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'VA_NOT_LOCAL' });
  });
});
