import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../src/store/database.js';
import { createCalendarTools } from '../../../src/tools/calendar.js';
import type { Booking } from '../../../src/tools/calendar-schemas.js';
import { ToolRunner, type ToolOutcome } from '../../../src/tools/registry.js';
import { clinicCalendar, makeTempDir, mondayMorning, SettableClock, type TempDir } from './support/fixtures.js';

const ada = { name: 'Ada Lovelace', phone: '5551234567' };

describe('calendar tools', () => {
  let dir: TempDir;
  let db: Database;
  let clock: SettableClock;
  let runner: ToolRunner;

  const call = (name: string, args: unknown) => runner.call(name, args, new AbortController().signal);

  async function ok<T>(name: string, args: unknown): Promise<T> {
    const outcome = await call(name, args);
    if (!outcome.ok) throw new Error(`${name} failed: ${outcome.error.code} ${outcome.error.message}`);
    return outcome.result as T;
  }

  async function failure(name: string, args: unknown): Promise<string> {
    const outcome: ToolOutcome = await call(name, args);
    if (outcome.ok) throw new Error(`${name} unexpectedly succeeded`);
    return outcome.error.code;
  }

  const book = async (date: string, time: string, who = ada) =>
    (await ok<{ booking: Booking }>('book_appointment', { ...who, date, time })).booking;

  beforeEach(() => {
    dir = makeTempDir();
    db = openDatabase({ dataDir: dir.path });
    clock = new SettableClock(mondayMorning); // Monday 2025-06-02 10:07 New York
    runner = new ToolRunner({
      tools: createCalendarTools({ db, calendar: clinicCalendar(), clock }),
      call: { callSid: 'CA123', from: '+15551234567' },
    });
  });

  afterEach(() => {
    db.close();
    dir.remove();
  });

  describe('check_availability', () => {
    it('lists the free slots of a day and whether a requested time is free', async () => {
      await book('2025-06-03', '09:30');
      const result = await ok<{ available: string[]; requestedFree: boolean; closed: boolean }>('check_availability', {
        date: '2025-06-03',
        time: '09:30',
      });
      expect(result.closed).toBe(false);
      expect(result.requestedFree).toBe(false);
      expect(result.available).toHaveLength(15);
      expect(result.available.slice(0, 2)).toEqual(['09:00', '10:00']);
      expect(await ok('check_availability', { date: '2025-06-03', time: '10:00' })).toMatchObject({
        requestedFree: true,
      });
    });

    it('leaves out times that have passed today', async () => {
      const today = await ok<{ available: string[] }>('check_availability', { date: '2025-06-02' });
      expect(today.available[0]).toBe('10:30');
      const yesterday = await ok('check_availability', { date: '2025-06-01', time: '10:00' });
      expect(yesterday).toEqual({ date: '2025-06-01', available: [], closed: true, requestedFree: false });
    });

    it('reports a closed day as empty with the closed flag', async () => {
      expect(await ok('check_availability', { date: '2025-06-07' })).toEqual({
        date: '2025-06-07',
        available: [],
        closed: true,
      });
    });

    it('has nothing beyond the booking horizon', async () => {
      expect(await ok('check_availability', { date: '2025-07-01' })).toMatchObject({ available: [], closed: false });
    });

    it('rejects impossible dates', async () => {
      expect(await failure('check_availability', { date: '2025-02-30' })).toBe('invalid-date');
    });
  });

  describe('book_appointment', () => {
    it('books a free slot and returns the booking', async () => {
      const booking = await book('2025-06-03', '09:30');
      expect(booking).toMatchObject({ ...ada, date: '2025-06-03', time: '09:30', service: null, status: 'booked' });
      expect(booking.bookingId).toMatch(/^\d{6}$/);
      const withService = await ok<{ booking: Booking }>('book_appointment', {
        ...ada,
        date: '2025-06-03',
        time: '10:00',
        service: 'cleaning',
      });
      expect(withService.booking.service).toBe('cleaning');
    });

    it('rejects taken, past, closed and off-grid times with speakable codes', async () => {
      await book('2025-06-03', '09:30');
      const other = { name: 'Bob', phone: '5550000000' };
      const attempt = (date: string, time: string) => failure('book_appointment', { ...other, date, time });
      expect(await attempt('2025-06-03', '09:30')).toBe('slot-taken');
      expect(await attempt('2025-06-02', '10:00')).toBe('past'); // earlier today
      expect(await attempt('2025-05-30', '11:00')).toBe('past');
      expect(await attempt('2025-06-07', '10:00')).toBe('closed'); // Saturday
      expect(await attempt('2025-06-03', '08:30')).toBe('closed'); // before opening
      expect(await attempt('2025-06-03', '17:00')).toBe('closed'); // at closing
      expect(await attempt('2025-06-06', '15:30')).toBe('closed'); // Friday closes at 15:00
      expect(await attempt('2025-06-03', '09:15')).toBe('no-such-slot');
      expect(await attempt('2025-06-03', '16:45')).toBe('no-such-slot'); // would end after closing
      expect(await attempt('2025-06-17', '10:00')).toBe('beyond-horizon');
    });

    it('validates the arguments before touching the store', async () => {
      const outcome = await call('book_appointment', { name: 'Ada', phone: '555-1234', date: '2025-06-03', time: '9:30' });
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome.error.code).toBe('invalid-args');
      expect(outcome.error.message).toContain('phone');
      expect(outcome.error.message).toContain('time');
    });
  });

  describe('find_bookings', () => {
    it('returns the upcoming live bookings for a phone, soonest first', async () => {
      const later = await book('2025-06-05', '11:00');
      const sooner = await book('2025-06-03', '09:30');
      const today = await book('2025-06-02', '16:00');
      await book('2025-06-04', '09:00', { name: 'Bob', phone: '5550000000' });
      const cancelled = await book('2025-06-04', '10:00');
      await ok('cancel_appointment', { bookingId: cancelled.bookingId });

      const found = await ok<{ bookings: Booking[] }>('find_bookings', { phone: ada.phone });
      expect(found.bookings.map((b) => b.bookingId)).toEqual([today.bookingId, sooner.bookingId, later.bookingId]);

      clock.set(Date.UTC(2025, 5, 2, 20, 30)); // 16:30 in New York: today's has passed
      const afterwards = await ok<{ bookings: Booking[] }>('find_bookings', { phone: ada.phone });
      expect(afterwards.bookings.map((b) => b.bookingId)).toEqual([sooner.bookingId, later.bookingId]);
    });

    it('returns an empty list for an unknown phone', async () => {
      expect(await ok('find_bookings', { phone: '5557777777' })).toEqual({ bookings: [] });
    });
  });

  describe('cancel_appointment', () => {
    it('cancels a booking and frees its slot', async () => {
      const booking = await book('2025-06-03', '09:30');
      const cancelled = await ok<{ booking: Booking }>('cancel_appointment', { bookingId: booking.bookingId });
      expect(cancelled.booking).toEqual({ ...booking, status: 'cancelled' });
      expect(await ok('check_availability', { date: '2025-06-03', time: '09:30' })).toMatchObject({ requestedFree: true });
      await book('2025-06-03', '09:30', { name: 'Bob', phone: '5550000000' });
    });

    it('reports unknown and already cancelled bookings as not-found', async () => {
      expect(await failure('cancel_appointment', { bookingId: '000000x' })).toBe('not-found');
      const booking = await book('2025-06-03', '09:30');
      await ok('cancel_appointment', { bookingId: booking.bookingId });
      expect(await failure('cancel_appointment', { bookingId: booking.bookingId })).toBe('not-found');
    });

    it('does not cancel an appointment that has already happened', async () => {
      const booking = await book('2025-06-02', '11:00');
      clock.set(Date.UTC(2025, 5, 2, 16, 0)); // 12:00 in New York
      expect(await failure('cancel_appointment', { bookingId: booking.bookingId })).toBe('past');
    });
  });

  describe('reschedule_appointment', () => {
    it('moves a booking to a free slot, keeping its id, and frees the old slot', async () => {
      const booking = await book('2025-06-03', '09:30');
      const moved = await ok<{ booking: Booking }>('reschedule_appointment', {
        bookingId: booking.bookingId,
        date: '2025-06-04',
        time: '14:00',
      });
      expect(moved.booking).toEqual({ ...booking, date: '2025-06-04', time: '14:00' });
      expect(await ok('check_availability', { date: '2025-06-03', time: '09:30' })).toMatchObject({ requestedFree: true });
      expect(await ok('check_availability', { date: '2025-06-04', time: '14:00' })).toMatchObject({
        requestedFree: false,
      });
    });

    it('keeps the old booking intact when the new slot is taken', async () => {
      const booking = await book('2025-06-03', '09:30');
      await book('2025-06-04', '14:00', { name: 'Bob', phone: '5550000000' });
      const code = await failure('reschedule_appointment', {
        bookingId: booking.bookingId,
        date: '2025-06-04',
        time: '14:00',
      });
      expect(code).toBe('slot-taken');
      const found = await ok<{ bookings: Booking[] }>('find_bookings', { phone: ada.phone });
      expect(found.bookings).toEqual([booking]);
    });

    it('rejects unknown bookings and unbookable targets', async () => {
      const booking = await book('2025-06-03', '09:30');
      const move = (bookingId: string, date: string, time: string) =>
        failure('reschedule_appointment', { bookingId, date, time });
      expect(await move('999999x', '2025-06-04', '14:00')).toBe('not-found');
      expect(await move(booking.bookingId, '2025-06-07', '10:00')).toBe('closed');
      expect(await move(booking.bookingId, '2025-06-02', '09:00')).toBe('past');
    });

    it('is a no-op when moving to the same slot', async () => {
      const booking = await book('2025-06-03', '09:30');
      expect(
        await ok('reschedule_appointment', { bookingId: booking.bookingId, date: '2025-06-03', time: '09:30' }),
      ).toEqual({ booking });
    });
  });

  it('extends the schedule when the clinic day rolls over', async () => {
    expect(await failure('book_appointment', { ...ada, date: '2025-06-16', time: '10:00' })).toBe('beyond-horizon');
    clock.advanceMinutes(24 * 60);
    expect((await book('2025-06-16', '10:00')).date).toBe('2025-06-16');
  });
});
