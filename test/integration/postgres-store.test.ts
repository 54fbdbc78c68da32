/**
 * The PostgreSQL adapters against a real PostgreSQL: migrations, bookings (and a double-booking
 * race between two processes), call records with the outage spool, the live-call registry with
 * leases, commands delivered by LISTEN/NOTIFY, documents.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/store/call-record.js';
import type { CallCommand, StateStore } from '../../src/store/ports.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { migrateUp } from '../../src/store/postgres/migrate.js';
import { StoreUnavailableError } from '../../src/store/store-errors.js';
import { SpoolingCallRecords } from '../../src/store/spooling-call-records.js';
import { until } from '../../testkit/helpers/process.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../../testkit/helpers/postgres.js';
import { compileForWorker } from '../unit/tools/support/compile-for-worker.js';

const logger = pino({ level: 'silent' });
const day = '2031-03-04';
const times = ['09:00', '09:30', '10:00', '10:30', '11:00', '11:30', '12:00', '12:30', '13:00', '13:30'];

function recordFor(callSid: string, endedAt: string | null = null): CallRecord {
  return {
    callSid, streamSid: `MZ${callSid}`, from: '+15550001111', to: '+15550002222',
    startedAt: '2031-03-04T09:00:00.000Z', endedAt, endReason: endedAt ? 'caller-hangup' : null,
    engines: { stt: 'a', llm: 'b', tts: 'c', vad: 'd' }, turns: [], toolCalls: [], slots: {}, bargeIns: 0,
    streamEvents: [], protocolErrors: {}, fallbacks: [],
    usage: { llmInputTokens: 0, llmCachedInputTokens: 0, llmCacheWriteTokens: 0, llmOutputTokens: 0 } as CallRecord['usage'],
    cost: null,
  };
}

describe.skipIf(!postgresAvailable)('PostgreSQL store', () => {
  let db: TestDatabase;
  let store: StateStore;
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'pg-store-'));
    store = await openPostgresStore({ url: db.url, poolMax: 4, statementTimeoutMs: 2000, connectTimeoutMs: 2000, dataDir, logger });
    await store.bookings.addSlots(times.map((time) => ({ date: day, time })));
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('migrates once: a second run applies nothing', async () => {
    expect(await migrateUp(db.url, logger)).toEqual([]);
  });

  it('books, refuses a taken or unknown slot, cancels and reschedules', async () => {
    const booked = await store.bookings.book({ name: 'Ada', phone: '5551110000', date: day, time: '09:00' });
    expect(booked).toMatchObject({ ok: true, booking: { status: 'booked', time: '09:00' } });
    expect(await store.bookings.book({ name: 'Bob', phone: '5552220000', date: day, time: '09:00' })).toMatchObject({ ok: false, code: 'slot-taken' });
    expect(await store.bookings.book({ name: 'Bob', phone: '5552220000', date: day, time: '09:10' })).toMatchObject({ ok: false, code: 'no-such-slot' });
    expect(await store.bookings.freeSlots(day)).not.toContain('09:00');
    if (!booked.ok) throw new Error('unreachable');
    const id = booked.booking.bookingId;
    const other = await store.bookings.book({ name: 'Cy', phone: '5553330000', date: day, time: '09:30' });
    expect(await store.bookings.reschedule(id, day, '09:30')).toMatchObject({ ok: false, code: 'slot-taken' });
    expect(await store.bookings.reschedule(id, day, '10:00')).toMatchObject({ ok: true, booking: { time: '10:00' } });
    expect(await store.bookings.upcomingByPhone('5551110000', day, '00:00')).toHaveLength(1);
    expect(await store.bookings.cancel(id)).toMatchObject({ ok: true, booking: { status: 'cancelled' } });
    expect(await store.bookings.cancel(id)).toMatchObject({ ok: false, code: 'not-found' });
    if (other.ok) await store.bookings.cancel(other.booking.bookingId);
    expect(await store.bookings.freeSlots(day)).toEqual(times);
  });

  it('lets exactly one of two processes book each slot when they race', async () => {
    const race = ['11:00', '11:30', '12:00', '12:30', '13:00', '13:30'].map((time) => ({ date: day, time }));
    const compiled = compileForWorker(['src/store/postgres/pool.ts', 'src/store/postgres/bookings.ts', 'src/store/store-errors.ts', 'src/store/ports.ts', 'src/store/rows.ts'], join(dataDir, 'racer'));
    const racers = ['A', 'B'].map((name, index) =>
      fork(new URL('./support/pg-booking-racer.mjs', import.meta.url), {
        env: {
          ...process.env,
          POOL_URL: compiled.get('src/store/postgres/pool.ts'),
          BOOKINGS_URL: compiled.get('src/store/postgres/bookings.ts'),
          DATABASE_URL: db.url,
          RACER: name,
          // Opposite orders so the two collide all the way through.
          SLOTS: JSON.stringify(index === 0 ? race : [...race].reverse()),
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    const results: Array<Array<{ time: string; won: boolean; code?: string }>> = [];
    let ready = 0;
    for (const racer of racers) {
      racer.on('message', (message: { ready?: boolean; outcomes?: (typeof results)[number] }) => {
        if (message.ready && ++ready === racers.length) for (const r of racers) r.send('go');
        if (message.outcomes) results.push(message.outcomes);
      });
    }
    await until(() => results.length === racers.length, 'both racers to report');
    for (const slot of race) {
      const outcomes = results.map((r) => r.find((o) => o.time === slot.time)!);
      expect(outcomes.filter((o) => o.won), `${slot.time} won exactly once`).toHaveLength(1);
      expect(outcomes.find((o) => !o.won)?.code).toBe('slot-taken');
    }
    const rows = await new pg.Pool({ connectionString: db.url, max: 1 });
    const count = await rows.query(`SELECT count(*)::int AS n FROM bookings WHERE date = $1 AND time >= '11:00' AND status = 'booked'`, [day]);
    await rows.end();
    expect(count.rows[0].n).toBe(race.length);
  });

  it('upserts call records and never lets a start snapshot replace the finished record', async () => {
    await store.callRecords.save(recordFor('CApg1'));
    expect((await store.callRecords.get('CApg1'))?.endedAt).toBeNull();
    await store.callRecords.save(recordFor('CApg1', '2031-03-04T09:05:00.000Z'));
    await store.callRecords.save(recordFor('CApg1'));
    expect((await store.callRecords.get('CApg1'))?.endedAt).toBe('2031-03-04T09:05:00.000Z');
    expect(await store.callRecords.get('CAnone')).toBeUndefined();
  });

  it('claims a call once, refuses a duplicate, renews and reaps leases', async () => {
    const call = { callSid: 'CAlive1', streamSid: 'MZ1', workerId: 'm1:1', machine: 'm1', startedAt: new Date().toISOString(), state: 'live' as const };
    expect(await store.liveCalls.claim(call, 60_000)).toEqual({ claimed: true });
    const dup = await store.liveCalls.claim({ ...call, streamSid: 'MZ2', workerId: 'm2:2', machine: 'm2' }, 60_000);
    expect(dup).toMatchObject({ claimed: false, holder: { workerId: 'm1:1', streamSid: 'MZ1' } });
    expect((await store.liveCalls.list()).map((c) => c.callSid)).toContain('CAlive1');
    await store.liveCalls.setState('CAlive1', 'm1:1', 'transferring');
    expect((await store.liveCalls.get('CAlive1'))?.state).toBe('transferring');

    // A worker that stops heartbeating loses its calls once the lease runs out.
    await store.liveCalls.claim({ ...call, callSid: 'CAlost', workerId: 'm3:3' }, 50);
    await new Promise((r) => setTimeout(r, 120));
    expect((await store.liveCalls.list()).map((c) => c.callSid)).not.toContain('CAlost');
    expect((await store.liveCalls.reapExpired()).map((c) => c.callSid)).toEqual(['CAlost']);
    // ...and then its call can be claimed by another worker.
    await store.liveCalls.claim({ ...call, callSid: 'CAlost2', workerId: 'm3:3' }, 50);
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.liveCalls.claim({ ...call, callSid: 'CAlost2', workerId: 'm1:1' }, 60_000)).toEqual({ claimed: true });

    await store.liveCalls.heartbeat('m1:1', 120_000);
    expect(Date.parse((await store.liveCalls.get('CAlive1'))!.leaseUntil)).toBeGreaterThan(Date.now() + 90_000);
    await store.liveCalls.release('CAlive1', 'm2:2'); // not the holder: no effect
    expect(await store.liveCalls.get('CAlive1')).toBeDefined();
    await store.liveCalls.release('CAlive1', 'm1:1');
    expect(await store.liveCalls.get('CAlive1')).toBeUndefined();
  });

  it('delivers a command to the subscribed owner through NOTIFY and keeps the row as the record', async () => {
    const got: CallCommand[] = [];
    const unsubscribe = await store.commands.subscribe('owner:1', (command) => got.push(command));
    try {
      const other = await openPostgresStore({ url: db.url, poolMax: 2, statementTimeoutMs: 2000, connectTimeoutMs: 2000, dataDir, logger, migrate: false });
      const issued = await other.commands.issue({ callSid: 'CAcmd', workerId: 'owner:1', kind: 'transfer', to: '+15550009999' });
      await other.commands.issue({ callSid: 'CAcmd2', workerId: 'someone-else:2', kind: 'hangup' });
      await until(() => got.length === 1, 'the command to arrive');
      expect(got[0]).toMatchObject({ id: issued.id, callSid: 'CAcmd', kind: 'transfer', to: '+15550009999' });
      expect((await store.commands.pending('owner:1')).map((c) => c.id)).toEqual([issued.id]);
      await store.commands.complete(issued.id, 'done');
      expect(await store.commands.pending('owner:1')).toEqual([]);
      await other.close();
    } finally {
      await unsubscribe();
    }
  });

  it('keeps documents by kind and key, with expiry', async () => {
    await store.documents.put('callback', 'CA1', { phone: '+1555' });
    await store.documents.put('callback', 'CA2', { phone: '+1556' }, new Date(Date.now() - 1000));
    expect(await store.documents.get('callback', 'CA1')).toEqual({ phone: '+1555' });
    expect(await store.documents.get('callback', 'CA2')).toBeUndefined();
    expect((await store.documents.list('callback')).map((d) => d.key)).toEqual(['CA1']);
    await store.documents.delete('callback', 'CA1');
    expect(await store.documents.get('callback', 'CA1')).toBeUndefined();
  });

  it('reports an unreachable database as StoreUnavailableError, spools records and flushes them later', async () => {
    const down = await openPostgresStore({
      url: 'postgres://postgres@127.0.0.1:1/none', poolMax: 1, statementTimeoutMs: 500, connectTimeoutMs: 500, dataDir, logger, migrate: false,
    });
    await expect(down.bookings.freeSlots(day)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await down.ping()).toBe(false);
    // The record goes to the spool, is readable from it, and reaches the database once it is back.
    await down.callRecords.save(recordFor('CAspool', '2031-03-04T09:06:00.000Z'));
    expect(readdirSync(join(dataDir, 'spool', 'call-records'))).toContain('CAspool.json');
    expect((await down.callRecords.get('CAspool'))?.endedAt).toBe('2031-03-04T09:06:00.000Z');
    await down.close();
    const back = new SpoolingCallRecords((store.callRecords as SpoolingCallRecords)['inner'], dataDir, logger);
    expect(await back.flush()).toBe(0);
    expect(readdirSync(join(dataDir, 'spool', 'call-records'))).not.toContain('CAspool.json');
    expect((await store.callRecords.get('CAspool'))?.endReason).toBe('caller-hangup');
  });
});
