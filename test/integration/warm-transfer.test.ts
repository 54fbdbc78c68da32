/**
 * Warm transfer end to end against the Twilio REST fake: a caller on a media stream asks for a
 * person, goes on hold in a conference, the person hears the whisper and presses 1 (or does not
 * answer, is busy, declines, lets it time out), and the caller is joined or brought back to the
 * agent, which resumes the conversation and books a callback. Every callback the fake sends is
 * signed and goes through the real routes.
 */
import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import type { TransferStore } from '../../src/store/transfer-store.js';
import { ScriptedStt } from '../../testkit/fakes/scripted-engines.js';
import { TwilioRestFake } from '../../testkit/fakes/twilio-rest-fake.js';
import type { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { until } from '../../testkit/helpers/process.js';
import { ACCOUNT, FROM, TO, TOKEN, freePort, startTransferApp, transferCaller, utter, type TransferApp, type TransferAppOptions } from '../../testkit/helpers/transfer-app.js';
import { ClaudeBrain } from '../../src/dialog/claude-brain.js';
import { FlowBrain } from '../../src/dialog/flow-brain.js';
import { backFromHoldLine, withResumeLine } from '../../src/transfer/resume-brain.js';
import { AnthropicFake } from '../../testkit/fakes/anthropic-fake.js';

interface Harness {
  app: App;
  fake: TwilioRestFake;
  store: TransferStore;
  stt: ScriptedStt;
  publicUrl: string;
  server: TransferApp;
}

let h: Harness;

async function start(transcripts: string[], agentOverrides: Record<string, unknown> = {}, brain?: TransferAppOptions['brain'], credentials = true): Promise<Harness> {
  const fake = new TwilioRestFake();
  fake.addAccount(ACCOUNT, TOKEN);
  const apiUrl = await fake.start();
  const stt = new ScriptedStt(transcripts);
  const server = await startTransferApp({ apiUrl, port: await freePort(), stt, agentOverrides, credentials, ...(brain ? { brain } : {}) });
  return { app: server.app, fake, store: server.transfers, stt, publicUrl: server.publicUrl, server };
}

/** A caller's media stream: announced on /voice (signed) like Twilio does, or a resumed stream with the parameters Twilio was given. */
function caller(callSid: string, parameters?: Record<string, string>, playback?: 'never-echo'): FakeTwilioCaller {
  return transferCaller({ publicUrl: h.publicUrl, callSid, ...(parameters ? { parameters } : {}), ...(playback ? { playback } : {}) });
}

/** The agent's turns so far on the live session of `callSid`. */
function agentSaid(callSid: string): string {
  const session = h.app.context.calls.session(callSid);
  return (session?.record.turns ?? []).filter((t) => t.role === 'agent').map((t) => t.text).join(' | ');
}


/** Caller asks for a person and ends up on hold; returns the person's outbound leg. */
async function askForPersonAndHold(callSid: string, greeting = 'What would you like to do') {
  h.fake.voice.addInboundCall(callSid, ACCOUNT, FROM, TO);
  const c = caller(callSid);
  await c.start();
  await until(() => agentSaid(callSid).includes(greeting), () => `the greeting (agent said: ${agentSaid(callSid)})`);
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

  it('Twilio never calls back: at the hold deadline the caller is back with the agent, offered a callback, and the person stops ringing', async () => {
    h = await start(['talk to a person'], { transfer: { hours: 'always', targets: [{ label: 'front desk', number: '+15550001000' }], holdTimeoutSeconds: 1 } });
    const callSid = `CA${'9'.repeat(32)}`;
    const { person } = await askForPersonAndHold(callSid);
    const [ringing] = await h.store.attemptsFor(callSid);
    expect(ringing).toMatchObject({ status: 'ringing' });
    expect(Date.parse(ringing!.deadlineAt!) - Date.parse(ringing!.holdStartedAt!)).toBe(1000);
    // The person's phone rings and nothing is ever reported.
    await until(() => h.fake.voice.call(callSid)?.stream != null, 'the caller back on a media stream', 10_000);
    const [attempt] = await h.store.attemptsFor(callSid);
    expect(attempt).toMatchObject({ status: 'returning', outcome: 'timeout' });
    await until(() => h.fake.voice.call(person.sid)?.status === 'canceled', 'the person leg cancelled');
    expect(await h.app.context.metrics.registry.metrics()).toContain('voice_transfer_outcomes_total{outcome="timeout"} 1');

    const resumed = caller(callSid, h.fake.voice.call(callSid)!.stream!.parameters);
    await resumed.start();
    await until(() => agentSaid(callSid).includes('ending in'), () => `the callback offer (agent said: ${agentSaid(callSid)})`);
    expect(agentSaid(callSid)).toMatch(/nobody could take your call.*call you back/i);
    expect((await h.store.attemptsFor(callSid))[0]!.status).toBe('resumed');
    resumed.stop();
  });

  it('the person picking up moves the hold deadline: the whisper and the accept window are not cut short', async () => {
    h = await start(['talk to a person'], { transfer: { hours: 'always', targets: [{ label: 'front desk', number: '+15550001000' }], holdTimeoutSeconds: 1, acceptTimeoutSeconds: 8 } });
    const callSid = `CA${'7'.repeat(32)}`;
    const { person } = await askForPersonAndHold(callSid);
    const pickedUpAt = Date.now();
    await h.fake.voice.answer(person.sid);
    const [answering] = await h.store.attemptsFor(callSid);
    expect(answering).toMatchObject({ status: 'ringing' });
    // accept window (8 s) + room for the whisper (60 s), counted from the pick-up.
    expect(Date.parse(answering!.deadlineAt!) - pickedUpAt).toBeGreaterThanOrEqual(68_000 - 1000);
    // Past the original 1 s deadline, the local timer and the sweep both leave the attempt alone.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await h.app.context.transfer!.sweep()).toBe(0);
    expect((await h.store.attemptsFor(callSid))[0]).toMatchObject({ status: 'ringing' });
    const join = await h.fake.voice.press(person.sid, '1');
    expect(join).toContain('<Conference');
    expect((await h.store.attemptsFor(callSid))[0]).toMatchObject({ status: 'answered', outcome: 'answered' });
  });

  it('any instance brings back a caller past the hold deadline, even when the one that put them on hold is gone', async () => {
    h = await start([]);
    const attempt = await h.store.createAttempt({ id: '00000000-0000-4000-8000-00000000abcd', callSid: `CA${'8'.repeat(32)}`, from: FROM, to: TO, mode: 'warm', topic: 'general', targetLabel: 'front desk', targetNumber: '+15550001000' });
    h.fake.voice.addInboundCall(attempt.callSid, ACCOUNT, FROM, TO);
    await h.store.transition(attempt.id, ['pending'], 'ringing', { holdStartedAt: new Date(Date.now() - 5000).toISOString(), deadlineAt: new Date(Date.now() - 1000).toISOString() });
    expect(await h.app.context.transfer!.sweep()).toBe(1);
    expect(await h.store.attempt(attempt.id)).toMatchObject({ status: 'returning', outcome: 'timeout' });
    expect(h.fake.voice.call(attempt.callSid)?.stream?.parameters).toMatchObject({ callSid: attempt.callSid, resume: attempt.id });
    expect(await h.app.context.transfer!.sweep()).toBe(0);
  });

  it('caller talks over the hold line: the transfer still goes through once they are heard', async () => {
    h = await start(['talk to a person', 'okay thanks']);
    const callSid = `CA${'7'.repeat(32)}`;
    h.fake.voice.addInboundCall(callSid, ACCOUNT, FROM, TO);
    const c = caller(callSid, undefined, 'never-echo'); // the agent's audio never finishes playing
    await c.start();
    await until(() => h.app.context.calls.has(callSid), 'the call');
    await utter(c); // over the greeting: "talk to a person"
    await vi.waitFor(async () => expect(await h.store.attemptsFor(callSid)).toHaveLength(1));
    await utter(c); // over "please hold": "okay thanks"
    await until(() => h.fake.voice.call(callSid)?.conference != null, 'caller on hold');
    // The attempt turns 'ringing' just after the REST update that put the caller in the conference.
    await vi.waitFor(async () => expect((await h.store.attemptsFor(callSid)).map((a) => a.status)).toEqual(['ringing']));
    c.ws.close();
  });

  it('caller hangs up during the hold line: the pending attempt is closed, nobody is dialled', async () => {
    h = await start(['talk to a person']);
    const callSid = `CA${'6'.repeat(32)}`;
    h.fake.voice.addInboundCall(callSid, ACCOUNT, FROM, TO);
    const c = caller(callSid, undefined, 'never-echo');
    await c.start();
    await until(() => h.app.context.calls.has(callSid), 'the call');
    await utter(c);
    await vi.waitFor(async () => expect(await h.store.attemptsFor(callSid)).toHaveLength(1));
    c.stop();
    c.ws.close();
    await vi.waitFor(async () => expect((await h.store.attemptsFor(callSid))[0]).toMatchObject({ status: 'ended', outcome: 'caller-hung-up' }));
    await until(() => h.app.context.calls.active === 0, 'the call ended');
    await h.app.context.records.flush();
    const record = (await h.app.context.records.get(callSid))!;
    expect(record.transfers).toEqual([expect.objectContaining({ status: 'ended', outcome: 'caller-hung-up' })]);
    expect(record.endReason).toBe('caller-hangup');
    expect(h.fake.voice.call(callSid)!.conference).toBeNull();
    expect(h.fake.voice.outboundCalls()).toHaveLength(0);
  });

  it('Claude: resumes after a failed transfer with the whole conversation, and carries on from it', async () => {
    const claude = await new AnthropicFake().start();
    try {
      claude.script.push(
        { blocks: [{ type: 'text', chunks: ['Of course, let me put you through.'] }, { type: 'tool_use', name: 'transfer_to_person', input: { reason: 'caller asked for a person', topic: 'general' } }], stopReason: 'tool_use' },
        { blocks: [{ type: 'text', chunks: ['Thank you. ', 'And when would suit you for the call?'] }] },
      );
      h = await start(['talk to a person', 'five five five one two three four five six seven'], {}, (agent, tools) =>
        withResumeLine(new ClaudeBrain({ apiKey: claude.apiKey, baseUrl: claude.baseUrl, config: agent, tools, fallback: new FlowBrain({ config: agent, tools }) }), backFromHoldLine(agent)),
      );
      const callSid = `CA${'4'.repeat(32)}`;
      const { person } = await askForPersonAndHold(callSid, 'how can I help');
      expect(claude.requests).toHaveLength(1);
      await h.fake.voice.noAnswer(person.sid);
      await until(() => h.fake.voice.call(callSid)?.stream != null, 'the caller back on a media stream');

      const resumed = caller(callSid, h.fake.voice.call(callSid)!.stream!.parameters);
      await resumed.start();
      await until(() => agentSaid(callSid).includes('What number should we call you on'), () => `the resume line (agent said: ${agentSaid(callSid)})`);
      expect(agentSaid(callSid)).not.toContain('how can I help');
      await utter(resumed);
      await until(() => agentSaid(callSid).includes('when would suit you'), () => `Claude's reply (agent said: ${agentSaid(callSid)})`);

      // The request after the resume carries the conversation from before the hold, in order.
      expect(claude.requests).toHaveLength(2);
      const said = (claude.requests[1]!.body.messages as Array<{ role: string; content: string | Array<{ type: string; text?: string }> }>).map((m) => ({
        role: m.role,
        text: typeof m.content === 'string' ? m.content : m.content.map((c) => c.text ?? `[${c.type}]`).join(' '),
      }));
      const transcript = said.map((m) => `${m.role}: ${m.text}`).join('\n');
      const order = ['talk to a person', 'put you through', 'nobody could take your call', 'five five five one two three four five six seven'].map((text) => transcript.indexOf(text));
      expect(order.every((at) => at >= 0), transcript).toBe(true);
      expect([...order].sort((x, y) => x - y)).toEqual(order);
      expect(said.at(-1)).toMatchObject({ role: 'user' });
      resumed.stop();
      await until(() => h.app.context.calls.active === 0, 'the call ended');
      await h.app.context.records.flush();
      const record = (await h.app.context.records.get(callSid))!;
      // Both parts in one record (the number itself is redacted in the stored transcript).
      expect(record.turns.filter((t) => t.role === 'caller').map((t) => t.text)).toEqual(['talk to a person', expect.not.stringContaining('five five five')]);
      expect(record.transfers?.[0]).toMatchObject({ outcome: 'no-answer', status: 'resumed' });
    } finally {
      await claude.stop();
    }
  });

  it('ops transfer without Twilio credentials: the agent says it cannot connect the call and takes a callback request', async () => {
    h = await start(['yes', 'tomorrow at ten a m', 'yes', 'no'], {}, undefined, false);
    const callSid = `CA${'3'.repeat(32)}`;
    const c = caller(callSid);
    await c.start();
    await until(() => agentSaid(callSid).includes('What would you like to do'), 'the greeting');
    const asked = await h.app.fastify.inject({ method: 'POST', url: `/calls/${callSid}/transfer`, headers: { authorization: 'Bearer ops-token' } });
    expect(asked.statusCode).toBe(202);
    expect(asked.json()).toMatchObject({ via: 'local' });
    await until(() => agentSaid(callSid).includes('ending in'), () => `the callback offer (agent said: ${agentSaid(callSid)})`);
    expect(agentSaid(callSid)).toMatch(/cannot connect calls from this line.*call you back/i);
    await utter(c); // yes, that number
    await until(() => agentSaid(callSid).includes('good time'), 'asked for a time');
    await utter(c); // tomorrow at ten
    await until(() => agentSaid(callSid).includes('read that back'), 'the read-back');
    expect(await h.store.callbacks()).toHaveLength(0);
    await utter(c); // yes
    await until(() => agentSaid(callSid).includes('We will call you back'), 'the confirmation');
    expect(await h.store.callbacks({ status: 'open' })).toEqual([expect.objectContaining({ callSid, phone: '5551234567', time: '10:00' })]);
    await utter(c); // no, that is all
    await c.closed();
    await until(() => h.app.context.calls.active === 0, 'the call ended');
    await h.app.context.records.flush();
    const record = (await h.app.context.records.get(callSid))!;
    expect(record.toolCalls.map((t) => t.name)).toEqual(['transfer_to_person', 'request_callback']);
    expect(record.toolCalls[0]!.args).toMatchObject({ reason: expect.stringMatching(/^staff asked/) });
    expect(record.endReason).not.toBe('ops-transfer');
    expect(h.fake.requests).toHaveLength(0); // nothing went to Twilio
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
