/**
 * Warm transfer end to end against the Twilio REST fake: a caller on a media stream asks for a
 * person, goes on hold in a conference, the person hears the whisper and presses 1 (or does not
 * answer, is busy, declines, lets it time out), and the caller is joined or brought back to the
 * agent, which resumes the conversation and books a callback. Every callback the fake sends is
 * signed and goes through the real routes.
 */
import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { TransferStore } from '../../src/store/transfer-store.js';
import { ScriptedStt } from '../../testkit/fakes/scripted-engines.js';
import { TwilioRestFake } from '../../testkit/fakes/twilio-rest-fake.js';
import type { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { until } from '../../testkit/helpers/process.js';
import { ACCOUNT, FROM, TO, TOKEN, freePort, startTransferApp, transferCaller, type TransferApp } from '../../testkit/helpers/transfer-app.js';

interface Harness {
  app: App;
  fake: TwilioRestFake;
  store: TransferStore;
  stt: ScriptedStt;
  publicUrl: string;
  server: TransferApp;
}

let h: Harness;

async function start(transcripts: string[], agentOverrides: Record<string, unknown> = {}): Promise<Harness> {
  const fake = new TwilioRestFake();
  fake.addAccount(ACCOUNT, TOKEN);
  const apiUrl = await fake.start();
  const stt = new ScriptedStt(transcripts);
  const server = await startTransferApp({ apiUrl, port: await freePort(), stt, agentOverrides });
  return { app: server.app, fake, store: server.transfers, stt, publicUrl: server.publicUrl, server };
}

/** A caller's media stream: announced on /voice (signed) like Twilio does, or a resumed stream with the parameters Twilio was given. */
function caller(callSid: string, parameters?: Record<string, string>): FakeTwilioCaller {
  return transferCaller({ publicUrl: h.publicUrl, callSid, ...(parameters ? { parameters } : {}) });
}

/** The agent's turns so far on the live session of `callSid`. */
function agentSaid(callSid: string): string {
  const session = h.app.context.calls.session(callSid);
  return (session?.record.turns ?? []).filter((t) => t.role === 'agent').map((t) => t.text).join(' | ');
}

async function utter(c: FakeTwilioCaller): Promise<void> {
  await c.speak(400, true);
  await c.silence(700, true);
}

/** Caller asks for a person and ends up on hold; returns the person's outbound leg. */
async function askForPersonAndHold(callSid: string) {
  h.fake.voice.addInboundCall(callSid, ACCOUNT, FROM, TO);
  const c = caller(callSid);
  await c.start();
  await until(() => agentSaid(callSid).includes('What would you like to do'), 'the greeting');
  await utter(c);
  await until(() => h.fake.voice.call(callSid)?.conference !== null, () => `caller on hold (agent said: ${agentSaid(callSid)})`);
  // Twilio ends the media stream when the call's TwiML is replaced.
  c.stop();
  c.ws.close();
  await until(() => h.fake.voice.outboundCalls().length === 1, 'the person dialled');
  return { callerLeg: c, person: h.fake.voice.outboundCalls()[0]! };
}

beforeEach(() => {
  h = undefined as unknown as Harness;
});

afterEach(async () => {
  if (!h) return;
  await h.server.close();
  await h.fake.stop();
});

describe('warm transfer', () => {
  it('answered: caller on hold in a conference, the person hears the summary, presses 1 and joins', async () => {
    h = await start(['talk to a person']);
    const callSid = `CA${'a'.repeat(32)}`;
    const { person } = await askForPersonAndHold(callSid);

    const hold = h.fake.voice.call(callSid)!.twiml;
    expect(hold).toContain('startConferenceOnEnter="false"');
    expect(hold).toContain('endConferenceOnExit="true"');
    expect(person.to).toBe('+15550001000');
    expect(person.from).toBe(TO);

    const whisper = await h.fake.voice.answer(person.sid);
    expect(whisper).toContain('<Gather');
    expect(whisper).toContain('Press 1 to take the call');
    expect(whisper).toMatch(/calling from five five five/i);
    expect(whisper).toContain('talk to a person');

    const join = await h.fake.voice.press(person.sid, '1');
    expect(join).toContain('<Conference');
    expect(h.fake.voice.call(person.sid)!.conference).toBe(h.fake.voice.call(callSid)!.conference);

    const [attempt] = await h.store.attemptsFor(callSid);
    expect(attempt).toMatchObject({ status: 'answered', outcome: 'answered', targetLabel: 'front desk', personCallSid: person.sid });
    expect(attempt!.timeToHumanMs).toBeGreaterThanOrEqual(0);
    expect(attempt!.whisper).toMatch(/talk to a person/);

    const record = await h.app.context.records.get(callSid);
    expect(record?.transfers?.[0]).toMatchObject({ outcome: 'answered', whisper: attempt!.whisper });
    expect(record?.endReason).toBe('transferred');
    const metrics = await h.app.context.metrics.registry.metrics();
    expect(metrics).toMatch(/voice_transfer_attempts_total\{mode="warm"\} 1/);
    expect(metrics).toMatch(/voice_transfer_outcomes_total\{outcome="answered"\} 1/);
    expect(metrics).toMatch(/voice_transfer_time_to_human_seconds_count 1/);
    // Every callback the fake sent was accepted (signed correctly).
    expect(h.fake.voice.delivered.every((d) => d.status < 300)).toBe(true);
  });

  it.each([
    ['no-answer', (sid: string): Promise<unknown> => h.fake.voice.noAnswer(sid)],
    ['busy', (sid: string): Promise<unknown> => h.fake.voice.busy(sid)],
    ['declined', async (sid: string): Promise<unknown> => (await h.fake.voice.answer(sid), h.fake.voice.press(sid, '2'))],
    ['timeout', async (sid: string): Promise<unknown> => (await h.fake.voice.answer(sid), h.fake.voice.gatherTimeout(sid))],
  ] as const)('%s: the caller is brought back to the agent on a new stream', async (outcome, personDoes) => {
    h = await start(['talk to a person']);
    const callSid = `CA${'b'.repeat(32)}`;
    const { person } = await askForPersonAndHold(callSid);
    await personDoes(person.sid);

    await until(() => h.fake.voice.call(callSid)?.stream !== null, 'the caller back on a media stream');
    const back = h.fake.voice.call(callSid)!;
    expect(back.conference).toBeNull();
    expect(back.stream!.url).toBe(`${h.publicUrl.replace('http', 'ws')}/media`);
    expect(back.stream!.parameters).toMatchObject({ callSid, from: FROM, to: TO, streamTicket: expect.any(String) });
    const [attempt] = await h.store.attemptsFor(callSid);
    expect(attempt).toMatchObject({ status: 'returning', outcome });
    expect(await h.app.context.metrics.registry.metrics()).toContain(`voice_transfer_outcomes_total{outcome="${outcome}"} 1`);
  });

  it('resumes after a failed transfer with the history intact and books a callback with a read-back', async () => {
    h = await start(['talk to a person', 'yes', 'tomorrow at ten a m', 'yes', 'no']);
    const callSid = `CA${'c'.repeat(32)}`;
    const { person } = await askForPersonAndHold(callSid);
    await h.fake.voice.noAnswer(person.sid);
    await until(() => h.fake.voice.call(callSid)?.stream !== null, 'the caller back on a media stream');

    const resumed = caller(callSid, h.fake.voice.call(callSid)!.stream!.parameters);
    await resumed.start();
    await until(() => agentSaid(callSid).includes('ending in'), () => `the callback offer (agent said: ${agentSaid(callSid)})`);
    expect(agentSaid(callSid)).toMatch(/nobody could take your call.*call you back/i);
    expect(agentSaid(callSid)).not.toContain('Thank you for calling');
    await utter(resumed); // yes, that number
    await until(() => agentSaid(callSid).includes('good time'), 'asked for a time');
    await utter(resumed); // tomorrow at ten
    await until(() => agentSaid(callSid).includes('read that back'), 'the read-back');
    expect(agentSaid(callSid)).toMatch(/a call back to five five five, one two three, four five six seven on .* at ten a\.?m/i);
    expect(await h.store.callbacks()).toHaveLength(0); // nothing stored before the yes
    await utter(resumed); // yes
    await until(() => agentSaid(callSid).includes('We will call you back'), 'the confirmation');
    await utter(resumed); // no, that is all
    await resumed.closed();

    const [callback] = await h.store.callbacks({ status: 'open' });
    expect(callback).toMatchObject({ callSid, phone: '5551234567', time: '10:00' });
    // One record for the whole call: the turns before the transfer and after it, and the attempt.
    await until(() => h.app.context.calls.active === 0, 'the call ended');
    await h.app.context.records.flush();
    const record = (await h.app.context.records.get(callSid))!;
    const callerTurns = record.turns.filter((t) => t.role === 'caller').map((t) => t.text);
    expect(callerTurns[0]).toBe('talk to a person');
    expect(callerTurns).toContain('tomorrow at ten a m');
    expect(record.turns.some((t) => t.role === 'agent' && t.text.includes('Thank you for calling'))).toBe(true);
    expect(record.transfers?.[0]).toMatchObject({ outcome: 'no-answer', status: 'resumed' });
    expect(record.toolCalls.map((c) => c.name)).toEqual(['transfer_to_person', 'request_callback']);

    // Ops see it at GET /callbacks with the admin token.
    const list = await h.app.fastify.inject({ method: 'GET', url: '/callbacks?status=open', headers: { authorization: 'Bearer ops-token' } });
    expect(list.json().callbacks).toHaveLength(1);
    expect((await h.app.fastify.inject({ method: 'GET', url: '/callbacks' })).statusCode).toBe(401);
    expect(await h.app.context.metrics.registry.metrics()).toContain('voice_transfer_outcomes_total{outcome="callback-taken"} 1');
  });

  it('caller hangs up on hold: the attempt ends and the person stops ringing', async () => {
    h = await start(['talk to a person']);
    const callSid = `CA${'d'.repeat(32)}`;
    const { person } = await askForPersonAndHold(callSid);
    await h.fake.voice.hangUp(callSid);
    await until(() => h.fake.voice.call(person.sid)?.status === 'canceled', 'the person leg cancelled');
    const [attempt] = await h.store.attemptsFor(callSid);
    expect(attempt).toMatchObject({ status: 'ended', outcome: 'caller-hung-up' });
    // The person's leg ending afterwards does not bring anyone back.
    expect(h.fake.voice.call(callSid)!.stream).toBeNull();
    // A late answer from the person finds nobody waiting: no whisper, the leg just ends.
    const late = await h.app.fastify.inject({
      method: 'POST',
      url: `/transfer/${attempt!.id}/whisper`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(TOKEN, `${h.publicUrl}/transfer/${attempt!.id}/whisper`, { CallSid: person.sid }) },
      payload: `CallSid=${person.sid}`,
    });
    expect(late.body).toContain('<Hangup/>');
  });

  it('refuses every transfer callback without a valid Twilio signature', async () => {
    h = await start([]);
    const id = '00000000-0000-4000-8000-000000000000';
    for (const leg of ['whisper', 'accept', 'person', 'conference']) {
      const payload = 'CallSid=CA1&CallStatus=busy&StatusCallbackEvent=participant-leave&Digits=1';
      const unsigned = await h.app.fastify.inject({ method: 'POST', url: `/transfer/${id}/${leg}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload });
      expect(unsigned.statusCode, leg).toBe(403);
      const wrong = await h.app.fastify.inject({
        method: 'POST',
        url: `/transfer/${id}/${leg}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature('another-token', `${h.publicUrl}/transfer/${id}/${leg}`, {}) },
        payload,
      });
      expect(wrong.statusCode, leg).toBe(403);
    }
  });
});
