/**
 * Ops control of live calls on one server (embedded store): GET /calls?active=1 lists the call
 * from the live-call registry, POST /calls/:sid/hangup ends it with a goodbye, a duplicate stream
 * for a live call is refused (1008), unknown calls are 404 and bad bodies 400.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { startTestServer, type TestServer } from '../../testkit/helpers/test-app.js';

const ADMIN = 'control-test-admin-token';
const auth = { authorization: `Bearer ${ADMIN}` };

describe('call control', () => {
  let server: TestServer;

  beforeEach(async () => {
    server = await startTestServer({ env: { ADMIN_TOKEN: ADMIN } });
  });
  afterEach(async () => server.close());

  const live = async () =>
    ((await (await fetch(`${server.url}/calls?active=1`, { headers: auth })).json()) as { calls: Array<{ callSid: string; worker: string; state: string }> }).calls;

  it('lists a live call, hangs it up with a goodbye, and records why', async () => {
    const caller = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant' });
    await caller.start();
    await caller.waitFor(() => caller.count('media') > 0, 20_000, 'greeting');
    expect(await live()).toEqual([expect.objectContaining({ callSid: caller.callSid, worker: expect.stringMatching(/:\d+$/), state: 'live' })]);
    const audioBefore = caller.count('media');
    const response = await fetch(`${server.url}/calls/${caller.callSid}/hangup`, { method: 'POST', headers: auth });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ via: 'local' });
    await caller.closed();
    expect(caller.count('media')).toBeGreaterThan(audioBefore); // the goodbye was spoken
    const record = (await (await fetch(`${server.url}/calls/${caller.callSid}`, { headers: auth })).json()) as { endReason: string };
    expect(record.endReason).toBe('ops-hangup');
    expect(await live()).toEqual([]);
  });

  it('answers 404 for a call that is not live, 400 for a bad transfer body, 401 without the token', async () => {
    expect((await fetch(`${server.url}/calls/CAnope/hangup`, { method: 'POST', headers: auth })).status).toBe(404);
    expect((await fetch(`${server.url}/calls/CAnope/transfer`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"to":"not a number"}' })).status).toBe(400);
    expect((await fetch(`${server.url}/calls/CAnope/transfer`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"to":"+15551234567"}' })).status).toBe(404);
    expect((await fetch(`${server.url}/calls?active=1`)).status).toBe(401);
    expect((await fetch(`${server.url}/calls`, { headers: auth })).status).toBe(400);
  });
});
