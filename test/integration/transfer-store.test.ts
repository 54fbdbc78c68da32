/**
 * The TransferStore contract, run against both adapters as two workers would use them: two
 * SQLite connections on one agent.db, and two PostgreSQL pools (two machines) on one database.
 * Compare-and-set under a race, the hold deadline, resume snapshots, callback requests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/store/call-record.js';
import { openDatabase } from '../../src/store/database.js';
import { SqliteTransferStore } from '../../src/store/embedded/transfers.js';
import type { StateStore } from '../../src/store/ports.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import type { NewAttempt, TransferStore } from '../../src/store/transfer-store.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../../testkit/helpers/postgres.js';

interface Pair {
  one: TransferStore;
  two: TransferStore;
  close(): Promise<void>;
}

const adapters: Array<[name: string, skip: boolean, open: () => Promise<Pair>]> = [
  [
    'SQLite (two connections on one agent.db)',
    false,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'transfer-store-'));
      const a = openDatabase({ dataDir: dir });
      const b = openDatabase({ dataDir: dir });
      return {
        one: new SqliteTransferStore(a),
        two: new SqliteTransferStore(b),
        async close() {
          a.close();
          b.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  ],
  [
    'PostgreSQL (two pools on one database)',
    !postgresAvailable,
    async () => {
      const db: TestDatabase = await createTestDatabase('voice_transfers');
      const dataDir = mkdtempSync(join(tmpdir(), 'transfer-store-pg-'));
      const options = { url: db.url, poolMax: 4, statementTimeoutMs: 2000, connectTimeoutMs: 2000, dataDir, logger: pino({ level: 'silent' }) };
      const stores: StateStore[] = [await openPostgresStore(options), await openPostgresStore({ ...options, migrate: false })];
      return {
        one: stores[0]!.transfers,
        two: stores[1]!.transfers,
        async close() {
          for (const store of stores) await store.close();
          await db.drop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  ],
];

let n = 0;
const newAttempt = (callSid: string): NewAttempt => ({
  id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  callSid,
  from: '+15551234567',
  to: '+15559870000',
  mode: 'warm',
  topic: 'general',
  targetLabel: 'front desk',
  targetNumber: '+15550001000',
});

describe.each(adapters)('transfer store: %s', (_name, skip, open) => {
  let pair: Pair;
  beforeAll(async () => {
    if (!skip) pair = await open();
  });
  afterAll(async () => {
    await pair?.close();
  });

  it.skipIf(skip)('moves an attempt only from the states named: of two racing callbacks on two workers exactly one acts', async () => {
    const { one, two } = pair;
    const created = await one.createAttempt(newAttempt('CA-race'));
    expect(created).toMatchObject({ status: 'pending', outcome: null, deadlineAt: null, callSid: 'CA-race' });
    const holdStartedAt = new Date().toISOString();
    const ringing = await two.transition(created.id, ['pending'], 'ringing', { whisper: 'Jordan wants to book', holdStartedAt, deadlineAt: '2031-01-01T00:00:00.000Z' });
    expect(ringing).toMatchObject({ status: 'ringing', whisper: 'Jordan wants to book', holdStartedAt, deadlineAt: '2031-01-01T00:00:00.000Z' });
    for (let round = 0; round < 5; round++) {
      const attempt = await one.createAttempt(newAttempt(`CA-race-${round}`));
      await one.transition(attempt.id, ['pending'], 'ringing');
      const [hungUp, noAnswer] = await Promise.all([
        one.transition(attempt.id, ['pending', 'ringing'], 'ended', { outcome: 'caller-hung-up' }),
        two.transition(attempt.id, ['pending', 'ringing'], 'returning', { outcome: 'no-answer' }),
      ]);
      const winners = [hungUp, noAnswer].filter(Boolean);
      expect(winners).toHaveLength(1);
      expect((await two.attempt(attempt.id))!.outcome).toBe(winners[0]!.outcome);
    }
    // Not in a named state: nothing moves.
    expect(await one.transition(created.id, ['answered'], 'ended')).toBeNull();
    expect(await one.transition(created.id, [], 'ended')).toBeNull();
    expect(await one.attempt('not-an-id')).toBeNull();
    expect(await one.transition('not-an-id', ['pending'], 'ended')).toBeNull();
  });

  it.skipIf(skip)('keeps a call’s attempts in order and patches only the fields given', async () => {
    const { one, two } = pair;
    const first = await one.createAttempt(newAttempt('CA-order'));
    const second = await two.createAttempt(newAttempt('CA-order'));
    await one.transition(first.id, ['pending'], 'ended', { outcome: 'cancelled', endedAt: new Date().toISOString() });
    const answered = await one.transition(second.id, ['pending'], 'answered', { outcome: 'answered', personCallSid: 'CA-person', timeToHumanMs: 4200 });
    expect(answered).toMatchObject({ personCallSid: 'CA-person', timeToHumanMs: 4200, whisper: null });
    expect((await two.attemptsFor('CA-order')).map((a) => [a.id, a.outcome])).toEqual([
      [first.id, 'cancelled'],
      [second.id, 'answered'],
    ]);
    expect(await two.attemptsFor('CA-nobody')).toEqual([]);
  });

  it.skipIf(skip)('lists attempts on hold past their deadline (the server-side timeout), for any worker', async () => {
    const { one, two } = pair;
    const late = await one.createAttempt(newAttempt('CA-late'));
    const early = await one.createAttempt(newAttempt('CA-early'));
    const answered = await one.createAttempt(newAttempt('CA-answered'));
    await one.transition(late.id, ['pending'], 'ringing', { deadlineAt: '2030-01-01T00:00:10.000Z' });
    await one.transition(early.id, ['pending'], 'ringing', { deadlineAt: '2030-01-01T00:01:00.000Z' });
    await one.transition(answered.id, ['pending'], 'answered', { deadlineAt: '2030-01-01T00:00:05.000Z' });
    const at = new Date('2030-01-01T00:00:30.000Z');
    expect((await two.overdue(['ringing'], at)).map((a) => a.id)).toEqual([late.id]);
    expect((await two.overdue(['ringing', 'answered'], at)).map((a) => a.id)).toEqual([answered.id, late.id]);
    expect(await two.overdue([], at)).toEqual([]);
  });

  it.skipIf(skip)('keeps the snapshot a call resumes from, for the worker the caller comes back to', async () => {
    const { one, two } = pair;
    const snapshot = {
      history: [
        { role: 'agent' as const, text: 'What would you like to do?' },
        { role: 'caller' as const, text: 'a person please' },
      ],
      brainState: { step: 'menu', slots: { name: 'Jordan' }, nested: [1, 2, { a: null }] },
      record: { callSid: 'CA-snap', turns: [], slots: { name: 'Jordan' } } as unknown as CallRecord,
    };
    await one.saveSnapshot('CA-snap', snapshot);
    expect(await two.snapshot('CA-snap')).toEqual(snapshot);
    await two.saveSnapshot('CA-snap', { ...snapshot, brainState: { step: 'callback' } });
    expect((await one.snapshot('CA-snap'))?.brainState).toEqual({ step: 'callback' });
    expect(await one.snapshot('CA-none')).toBeNull();
  });

  it.skipIf(skip)('stores callback requests ops list in time order and mark done', async () => {
    const { one, two } = pair;
    const later = await one.addCallback({ callSid: 'CA-cb1', phone: '5551234567', date: '2031-03-19', time: '09:00', topic: 'callback', note: '' });
    const sooner = await two.addCallback({ callSid: 'CA-cb2', phone: '5557654321', date: '2031-03-18', time: '10:00', topic: 'callback', note: 'about a bill' });
    expect(await one.callbacks({ status: 'open' })).toEqual([sooner, later]);
    expect(await two.setCallbackStatus(sooner.id, 'done')).toBe(true);
    expect(await one.callbacks({ status: 'open' })).toEqual([later]);
    expect((await one.callbacks({ status: 'done' })).map((c) => c.id)).toEqual([sooner.id]);
    expect((await one.callbacks({ limit: 1 })).map((c) => c.id)).toEqual([sooner.id]);
    expect(await one.setCallbackStatus('nope', 'done')).toBe(false);
  });
});
