/**
 * A warm transfer across two instances on one PostgreSQL (two apps, two pools: two machines as
 * far as the state goes). The caller's media stream is on instance A; PUBLIC_URL points at
 * instance B, so every Twilio callback (whisper, key press, the person's status, the
 * conference) and the resumed stream land on the instance that does not hold the call. B can
 * act only from what A put in the shared store: the attempt, the conversation snapshot, the
 * call record.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StateStore } from '../../src/store/ports.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { ScriptedStt } from '../../testkit/fakes/scripted-engines.js';
import { TwilioRestFake } from '../../testkit/fakes/twilio-rest-fake.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../../testkit/helpers/postgres.js';
import { until } from '../../testkit/helpers/process.js';
import { ACCOUNT, FROM, TO, TOKEN, freePort, startTransferApp, transferCaller, type TransferApp } from '../../testkit/helpers/transfer-app.js';
import type { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';

describe.skipIf(!postgresAvailable)('warm transfer across instances (PostgreSQL)', () => {
  let db: TestDatabase;
  let fake: TwilioRestFake;
  let spoolDir: string;
  const stores: StateStore[] = [];
  let a: TransferApp;
  let b: TransferApp;
  // What the callers say on each instance (ScriptedStt takes from these arrays as they go).
  const saysOnA: string[] = [];
  const saysOnB: string[] = [];
  let portA: number;

  beforeAll(async () => {
    db = await createTestDatabase('voice_transfer_x');
    fake = new TwilioRestFake();
    fake.addAccount(ACCOUNT, TOKEN);
    const apiUrl = await fake.start();
    spoolDir = mkdtempSync(join(tmpdir(), 'transfer-x-'));
    const options = { url: db.url, poolMax: 4, statementTimeoutMs: 3000, connectTimeoutMs: 3000, dataDir: spoolDir, logger: pino({ level: 'silent' }) };
    stores.push(await openPostgresStore(options), await openPostgresStore({ ...options, migrate: false }));
    portA = await freePort();
    const portB = await freePort();
    const publicUrl = `http://127.0.0.1:${portB}`;
    a = await startTransferApp({ apiUrl, port: portA, publicUrl, stt: new ScriptedStt(saysOnA), store: stores[0]! });
    b = await startTransferApp({ apiUrl, port: portB, publicUrl, stt: new ScriptedStt(saysOnB), store: stores[1]! });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    for (const store of stores) await store.close();
    await fake?.stop();
    await db?.drop();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  const agentSaid = (app: TransferApp, callSid: string) =>
    (app.app.context.calls.session(callSid)?.record.turns ?? []).filter((t) => t.role === 'agent').map((t) => t.text).join(' | ');

  async function utter(c: FakeTwilioCaller): Promise<void> {
    await c.speak(400, true);
    await c.silence(700, true);
  }

  /** The caller, on instance A, asks for a person and goes on hold. */
  async function holdOnA(callSid: string) {
    saysOnA.push('talk to a person');
    fake.voice.addInboundCall(callSid, ACCOUNT, FROM, TO);
    const dialled = fake.voice.outboundCalls().length;
    const c = transferCaller({ publicUrl: b.publicUrl, connectTo: `http://127.0.0.1:${portA}`, callSid });
    await c.start();
    await until(() => agentSaid(a, callSid).includes('What would you like to do'), 'the greeting on A');
    await utter(c);
    await until(() => fake.voice.call(callSid)?.conference != null, () => `caller on hold (A said: ${agentSaid(a, callSid)})`);
    c.stop();
    c.ws.close();
    await until(() => fake.voice.outboundCalls().length === dialled + 1, 'the person dialled');
    return fake.voice.outboundCalls().at(-1)!;
  }

  it('answered: B plays the whisper and joins the person; the record A wrote carries the outcome', async () => {
    const callSid = `CA${'e'.repeat(32)}`;
    const person = await holdOnA(callSid);
    expect(a.app.context.calls.has(callSid) || b.app.context.calls.has(callSid)).toBe(false);
    const whisper = await fake.voice.answer(person.sid);
    expect(whisper).toContain('Press 1 to take the call');
    expect(whisper).toContain('talk to a person');
    expect(await fake.voice.press(person.sid, '1')).toContain('<Conference');
    const [attempt] = await a.transfers.attemptsFor(callSid);
    expect(attempt).toMatchObject({ status: 'answered', outcome: 'answered', personCallSid: person.sid });
    // Every callback went to B, and B accepted each (signed, and found the state it needed).
    const deliveredTo = new Set(fake.voice.delivered.map((d) => new URL(d.url).origin));
    expect([...deliveredTo]).toEqual([b.publicUrl]);
    expect(fake.voice.delivered.every((d) => d.status < 300)).toBe(true);
    await vi.waitFor(async () => expect((await a.app.context.records.get(callSid))?.transfers?.[0]).toMatchObject({ outcome: 'answered' }));
    expect((await a.app.context.records.get(callSid))?.endReason).toBe('transferred');
  });

  it('no answer: B brings the caller back, resumes the conversation A had, and takes the callback', async () => {
    const callSid = `CA${'f'.repeat(32)}`;
    const person = await holdOnA(callSid);
    await fake.voice.noAnswer(person.sid);
    await until(() => fake.voice.call(callSid)?.stream != null, 'the caller back on a media stream');
    const back = fake.voice.call(callSid)!.stream!;
    expect(back.url).toBe(`${b.publicUrl.replace('http', 'ws')}/media`);

    saysOnB.push('yes', 'tomorrow at ten a m', 'yes', 'no');
    const resumed = transferCaller({ publicUrl: b.publicUrl, callSid, parameters: back.parameters });
    await resumed.start();
    await until(() => agentSaid(b, callSid).includes('ending in'), () => `the callback offer on B (B said: ${agentSaid(b, callSid)})`);
    expect(agentSaid(b, callSid)).toMatch(/nobody could take your call.*call you back/i);
    await utter(resumed);
    await until(() => agentSaid(b, callSid).includes('good time'), 'asked for a time');
    await utter(resumed);
    await until(() => agentSaid(b, callSid).includes('read that back'), 'the read-back');
    await utter(resumed);
    await until(() => agentSaid(b, callSid).includes('We will call you back'), 'the confirmation');
    await utter(resumed);
    await resumed.closed();
    await until(() => b.app.context.calls.active === 0, 'the call ended on B');
    await b.app.context.records.flush();

    // One record, readable from A: A's turns before the hold, B's after, and the attempt.
    const record = (await a.app.context.records.get(callSid))!;
    const callerTurns = record.turns.filter((t) => t.role === 'caller').map((t) => t.text);
    expect(callerTurns[0]).toBe('talk to a person');
    expect(callerTurns).toContain('tomorrow at ten a m');
    expect(record.turns.some((t) => t.role === 'agent' && t.text.includes('Thank you for calling'))).toBe(true);
    expect(record.transfers?.[0]).toMatchObject({ outcome: 'no-answer', status: 'resumed' });
    // The callback request is in the shared store: A lists what B took.
    const list = await a.app.fastify.inject({ method: 'GET', url: '/callbacks?status=open', headers: { authorization: 'Bearer ops-token' } });
    expect(list.json().callbacks).toEqual([expect.objectContaining({ callSid, phone: '5551234567', time: '10:00' })]);
  });
});
