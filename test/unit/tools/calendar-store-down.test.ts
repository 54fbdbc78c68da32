/** A booking database that stops answering mid-call: the tools say so in a way the dialog can speak. */
import { describe, expect, it } from 'vitest';
import type { BookingPort } from '../../../src/store/ports.js';
import { StoreUnavailableError } from '../../../src/store/store-errors.js';
import { createCalendarTools } from '../../../src/tools/calendar.js';
import { clinicCalendar, mondayMorning, SettableClock } from './support/fixtures.js';

/** A port whose database went away: every call fails like the PostgreSQL adapter does. */
function downPort(): BookingPort {
  const down = async () => {
    throw new StoreUnavailableError('database unavailable: connect ECONNREFUSED 127.0.0.1:5432');
  };
  return { addSlots: down, hasSlot: down, freeSlots: down, get: down, upcomingByPhone: down, book: down, cancel: down, reschedule: down };
}

describe('calendar tools when the booking database is down', () => {
  const tools = createCalendarTools({ bookings: downPort(), calendar: clinicCalendar(), clock: new SettableClock(mondayMorning) });
  const run = (name: string, args: unknown) => tools.find((t) => t.name === name)!.run(args as never, { signal: new AbortController().signal } as never);

  it.each([
    ['check_availability', { date: '2025-06-03' }],
    ['book_appointment', { name: 'Ada', phone: '5551112222', date: '2025-06-03', time: '10:00' }],
    ['find_bookings', { phone: '5551112222' }],
    ['cancel_appointment', { bookingId: '123456' }],
  ])('%s fails with ToolError unavailable (apologise, offer a person), not a crash', async (name, args) => {
    await expect(run(name, args)).rejects.toMatchObject({ name: 'ToolError', code: 'unavailable' });
  });
});
