/**
 * CallControl with Twilio credentials and a call Twilio does not know (the browser phone's ids have
 * the same CA… shape): the REST API answers 404 and the command still reaches the call, through the
 * store (hang-up) or the agent on this worker (transfer). Other REST errors still fail the request.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CallControl } from '../../../src/cluster/call-control.js';
import type { LocalCallControl, WorkerCalls } from '../../../src/cluster/worker-calls.js';
import type { CallCommand, LiveCall } from '../../../src/store/ports.js';
import { TwilioRestFake } from '../../../testkit/fakes/twilio-rest-fake.js';

const ACCOUNT = `AC${'1'.repeat(32)}`;
const TOKEN = 'control-test-token';
const BROWSER_CALL = `CA${'b'.repeat(32)}`;

function harness(apiBaseUrl: string, held: { here: boolean }) {
  const issued: Array<Omit<CallCommand, 'id' | 'createdAt'>> = [];
  const local: LocalCallControl & { calls: string[] } = {
    calls: [],
    has: () => held.here,
    hangup: (sid) => (held.here ? (local.calls.push(`hangup ${sid}`), true) : false),
    transfer: (sid, to) => (held.here ? (local.calls.push(`transfer ${sid} ${to ?? ''}`), true) : false),
  };
  const row: LiveCall = { callSid: BROWSER_CALL, streamSid: 'MZ1', workerId: 'other:2', machine: 'other', startedAt: new Date().toISOString(), state: 'live', leaseUntil: new Date(Date.now() + 60_000).toISOString() };
  const workerCalls = {
    store: {
      liveCalls: { get: async (sid: string) => (sid === BROWSER_CALL ? row : null) },
      commands: { issue: async (command: Omit<CallCommand, 'id' | 'createdAt'>) => void issued.push(command) },
    },
  } as unknown as WorkerCalls;
  const control = new CallControl({ workerCalls, local, logger: pino({ level: 'silent' }), twilio: { accountSid: ACCOUNT, authToken: TOKEN, apiBaseUrl, transferNumber: '+15550001000' } });
  return { control, issued, local };
}

describe('CallControl: a call Twilio does not know', () => {
  let fake: TwilioRestFake;
  afterEach(async () => fake.stop());

  it('hangs up a call held on another worker through the store when Twilio answers 404', async () => {
    fake = new TwilioRestFake();
    fake.addAccount(ACCOUNT, TOKEN);
    const h = harness(await fake.start(), { here: false });
    expect(await h.control.hangup(BROWSER_CALL)).toEqual({ accepted: true, via: 'store' });
    expect(h.issued).toEqual([expect.objectContaining({ callSid: BROWSER_CALL, workerId: 'other:2', kind: 'hangup' })]);
    expect(fake.requests.some((r) => r.path.includes(BROWSER_CALL))).toBe(true); // Twilio was asked first
  });

  it('hands a transfer to the agent holding the call here when Twilio answers 404', async () => {
    fake = new TwilioRestFake();
    fake.addAccount(ACCOUNT, TOKEN);
    const h = harness(await fake.start(), { here: true });
    expect(await h.control.transfer(BROWSER_CALL, undefined)).toEqual({ accepted: true, via: 'local' });
    expect(h.local.calls).toEqual([`transfer ${BROWSER_CALL} `]);
  });

  it('still goes through Twilio for a call it knows, and fails on other REST errors', async () => {
    fake = new TwilioRestFake();
    fake.addAccount(ACCOUNT, TOKEN);
    const url = await fake.start();
    fake.voice.addInboundCall(BROWSER_CALL, ACCOUNT, '+15551230000', '+15559870000');
    expect(await harness(url, { here: false }).control.hangup(BROWSER_CALL)).toEqual({ accepted: true, via: 'twilio' });
    const wrongToken = new CallControl({
      workerCalls: { store: { liveCalls: { get: async () => ({ workerId: 'w' }) }, commands: { issue: async () => undefined } } } as unknown as WorkerCalls,
      local: { has: () => false, hangup: () => false, transfer: () => false },
      logger: pino({ level: 'silent' }),
      twilio: { accountSid: ACCOUNT, authToken: 'wrong', apiBaseUrl: url },
    });
    await expect(wrongToken.hangup(BROWSER_CALL)).rejects.toThrow();
  });
});
