import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BookingStore } from '../../../src/store/booking-store.js';
import { openDatabase, type Database } from '../../../src/store/database.js';
import { seedSchedule } from '../../../src/tools/calendar.js';
import { compileForWorker } from './support/compile-for-worker.js';
import { clinicCalendar, makeTempDir, mondayMorning, SettableClock, type TempDir } from './support/fixtures.js';

interface RaceOutcome {
  date: string;
  time: string;
  won: boolean;
  bookingId?: string;
  code?: string;
}

const tuesdaySlots = ['09:00', '09:30', '10:00', '10:30', '11:00', '11:30', '12:00', '12:30'].map((time) => ({
  date: '2025-06-03',
  time,
}));

describe('no double booking', () => {
  let dir: TempDir;
  let db: Database;

  beforeEach(() => {
    dir = makeTempDir('agent-race-');
    db = openDatabase({ dataDir: dir.path });
    seedSchedule(db, clinicCalendar(), new SettableClock(mondayMorning));
  });

  afterEach(() => {
    db.close();
    dir.remove();
  });

  it('lets exactly one of two connections book the same slot', () => {
    const other = openDatabase({ dataDir: dir.path });
    try {
      const first = new BookingStore(db);
      const second = new BookingStore(other);
      const slot = { date: '2025-06-03', time: '09:00' };
      // The second connection reads the slot as free before the first books it...
      expect(second.freeSlots(slot.date)).toContain(slot.time);
      first.book({ name: 'Ada', phone: '5551111111', ...slot });
      // ...and still cannot book it: the unique index decides, not an earlier read.
      expect(second.book({ name: 'Bob', phone: '5552222222', ...slot })).toMatchObject({ ok: false, code: 'slot-taken' });
      expect(second.freeSlots(slot.date)).not.toContain(slot.time);
    } finally {
      other.close();
    }
  });

  it('lets exactly one of two connections move a booking into the same slot', () => {
    const other = openDatabase({ dataDir: dir.path });
    try {
      const first = new BookingStore(db);
      const second = new BookingStore(other);
      const booked = (change: ReturnType<BookingStore['book']>) => {
        if (!change.ok) throw new Error(change.message);
        return change.booking;
      };
      const a = booked(first.book({ name: 'Ada', phone: '5551111111', date: '2025-06-03', time: '09:00' }));
      const b = booked(second.book({ name: 'Bob', phone: '5552222222', date: '2025-06-03', time: '09:30' }));
      expect(first.reschedule(a.bookingId, '2025-06-04', '10:00')).toMatchObject({ ok: true });
      expect(second.reschedule(b.bookingId, '2025-06-04', '10:00')).toMatchObject({ ok: false, code: 'slot-taken' });
      expect(second.get(b.bookingId)).toEqual(b);
    } finally {
      other.close();
    }
  });

  it('has exactly one winner per slot when worker threads race for the same slots', async () => {
    const compiled = compileForWorker(
      ['src/store/database.ts', 'src/store/booking-store.ts', 'src/store/rows.ts'],
      join(dir.path, 'worker-build'),
    );
    const racers = 4;
    const gate = new SharedArrayBuffer(8); // [0]: start flag, [1]: racers ready
    const gateView = new Int32Array(gate);
    const workers = Array.from(
      { length: racers },
      (_, index) =>
        new Worker(new URL('./support/booking-race-worker.mjs', import.meta.url), {
          workerData: {
            databaseUrl: compiled.get('src/store/database.ts'),
            bookingStoreUrl: compiled.get('src/store/booking-store.ts'),
            dataDir: dir.path,
            gate,
            name: `Racer ${index}`,
            phone: `555000000${index}`,
            // Each racer walks the slots in its own order so they collide all the way through.
            slots: index % 2 === 0 ? tuesdaySlots : [...tuesdaySlots].reverse(),
          },
        }),
    );
    const results = workers.map(
      (worker) =>
        new Promise<RaceOutcome[]>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
          worker.once('exit', (code) => code !== 0 && reject(new Error(`racer exited with ${code}`)));
        }),
    );
    while (Atomics.load(gateView, 1) < racers) await sleep(10);
    Atomics.store(gateView, 0, 1);
    Atomics.notify(gateView, 0);
    const outcomes = (await Promise.all(results)).flat();

    for (const slot of tuesdaySlots) {
      const forSlot = outcomes.filter((o) => o.date === slot.date && o.time === slot.time);
      expect(forSlot).toHaveLength(racers);
      expect(forSlot.filter((o) => o.won)).toHaveLength(1);
      expect(forSlot.filter((o) => !o.won).map((o) => o.code)).toEqual(Array(racers - 1).fill('slot-taken'));
    }
    const live = db
      .prepare(`SELECT date, time, count(*) AS n FROM bookings WHERE status = 'booked' GROUP BY date, time`)
      .all() as { n: number }[];
    expect(live).toHaveLength(tuesdaySlots.length);
    expect(live.every((row) => row.n === 1)).toBe(true);
  });
});
