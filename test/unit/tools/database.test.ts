import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BookingStore } from '../../../src/store/booking-store.js';
import { openDatabase, schemaVersion, type Database } from '../../../src/store/database.js';
import { seedSchedule } from '../../../src/tools/calendar.js';
import { clinicCalendar, makeTempDir, mondayMorning, SettableClock, type TempDir } from './support/fixtures.js';

function slotsOn(db: Database, date: string): string[] {
  return (db.prepare('SELECT time FROM slots WHERE date = ? ORDER BY time').all(date) as { time: string }[]).map(
    (row) => row.time,
  );
}

function slotCount(db: Database): number {
  return (db.prepare('SELECT count(*) AS n FROM slots').get() as { n: number }).n;
}

describe('database', () => {
  let dir: TempDir;
  let db: Database;

  beforeEach(() => {
    dir = makeTempDir();
    db = openDatabase({ dataDir: `${dir.path}/nested/data` });
  });

  afterEach(() => {
    db.close();
    dir.remove();
  });

  it('creates agent.db in WAL mode with the current schema version', () => {
    expect(db.name).toBe(`${dir.path}/nested/data/agent.db`);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('seeds slots from the opening hours, from today for daysAhead days', () => {
    const added = seedSchedule(db, clinicCalendar(), new SettableClock(mondayMorning));
    // Two weeks from Monday: 8 weekdays Mon–Thu × 16 slots + 2 Fridays × 12 slots.
    expect(added).toBe(8 * 16 + 2 * 12);
    expect(slotsOn(db, '2025-06-02')).toHaveLength(16);
    expect(slotsOn(db, '2025-06-02')[0]).toBe('09:00');
    expect(slotsOn(db, '2025-06-02').at(-1)).toBe('16:30');
    expect(slotsOn(db, '2025-06-06').at(-1)).toBe('14:30');
    expect(slotsOn(db, '2025-06-07')).toEqual([]); // Saturday
    expect(slotsOn(db, '2025-06-08')).toEqual([]); // Sunday
    expect(slotsOn(db, '2025-06-15')).toEqual([]); // Sunday, last day of the horizon anyway
    expect(slotsOn(db, '2025-06-16')).toEqual([]); // beyond the horizon
  });

  it('re-seeding is idempotent and extends the horizon as days pass', () => {
    const clock = new SettableClock(mondayMorning);
    const calendar = clinicCalendar();
    const first = seedSchedule(db, calendar, clock);
    expect(seedSchedule(db, calendar, clock)).toBe(0);
    expect(slotCount(db)).toBe(first);

    clock.advanceMinutes(24 * 60); // Tuesday: the horizon now reaches Monday 2025-06-16
    expect(seedSchedule(db, calendar, clock)).toBe(16);
    expect(slotsOn(db, '2025-06-16')).toHaveLength(16);
    expect(slotCount(db)).toBe(first + 16);
    expect(db.prepare('SELECT count(*) AS n FROM (SELECT date, time FROM slots GROUP BY date, time)').get()).toEqual({
      n: first + 16,
    });
  });

  it('uses the clinic time zone for "today"', () => {
    // 01:00 UTC Tuesday is Monday 21:00 in New York: Monday is still seeded.
    seedSchedule(db, clinicCalendar({ daysAhead: 1 }), new SettableClock(Date.UTC(2025, 5, 3, 1, 0)));
    expect(slotsOn(db, '2025-06-02')).toHaveLength(16);
    expect(slotsOn(db, '2025-06-03')).toEqual([]);
  });

  it('keeps bookings across a restart and does not rerun migrations', () => {
    seedSchedule(db, clinicCalendar(), new SettableClock(mondayMorning));
    const change = new BookingStore(db).book({ name: 'Ada', phone: '5551234567', date: '2025-06-03', time: '09:30' });
    if (!change.ok) throw new Error(change.message);
    const booked = change.booking;
    db.close();

    db = openDatabase({ dataDir: `${dir.path}/nested/data` });
    expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
    const store = new BookingStore(db);
    expect(store.get(booked.bookingId)).toEqual(booked);
    expect(store.upcomingByPhone('5551234567', '2025-06-02', '10:07')).toEqual([booked]);
    expect(store.book({ name: 'Bob', phone: '5559999999', date: '2025-06-03', time: '09:30' })).toMatchObject({ ok: false, code: 'slot-taken' });
  });

  it('refuses a database written by a newer build', () => {
    db.pragma(`user_version = ${schemaVersion + 1}`);
    db.close();
    expect(() => openDatabase({ dataDir: `${dir.path}/nested/data` })).toThrow(/newer than this build/);
    db = openDatabase({ dataDir: `${dir.path}/other` });
  });
});
