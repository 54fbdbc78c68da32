/**
 * The clinic's calendar tools over the booking port (embedded SQLite or PostgreSQL). Opening
 * hours and "now" come from the config and the injected clock; slot existence and double booking
 * are the store's job.
 *
 * Abort is honoured by checking the signal before the work (and after it for reads). A write that
 * has committed is always reported as done: telling the caller "that failed" about a booking that
 * exists would be worse than finishing late. A database that does not answer becomes the
 * ToolError 'unavailable': the dialog apologises and offers a person, the call goes on.
 */
import type { z } from 'zod';
import { BookingStore } from '../store/booking-store.js';
import type { Database } from '../store/database.js';
import { EmbeddedBookings } from '../store/embedded/bookings.js';
import type { BookingChange, BookingPort } from '../store/ports.js';
import { StoreUnavailableError } from '../store/store-errors.js';
import type { CalendarConfig } from '../config/calendar-config.js';
import {
  bookAppointmentInput,
  cancelAppointmentInput,
  checkAvailabilityInput,
  findBookingsInput,
  rescheduleAppointmentInput,
  type Booking,
} from './calendar-schemas.js';
import { addDays, isCalendarDate, isPast, localDateTime, slotTimesOn, weekdayOf, type Clock } from './clinic-time.js';
import type { Tool } from './tool.js';
import { ToolError } from './tool-error.js';

export interface CalendarToolsOptions {
  /** The shared booking store; or `db`, the embedded SQLite database, wrapped here. */
  bookings?: BookingPort;
  db?: Database;
  calendar: CalendarConfig;
  clock: Clock;
  /** Per-tool timeout, ms. */
  timeoutMs?: number;
}

export interface AvailabilityResult {
  date: string;
  /** Free slot start times, HH:MM, in order (future ones only). */
  available: string[];
  /** Set when a time was asked about: whether that exact slot can be booked. */
  requestedFree?: boolean;
  /** The clinic does not open on that weekday. */
  closed: boolean;
}

export interface BookingResult {
  booking: Booking;
}

export interface BookingsResult {
  bookings: Booking[];
}

type CheckAvailabilityArgs = z.infer<typeof checkAvailabilityInput>;
type BookAppointmentArgs = z.infer<typeof bookAppointmentInput>;
type FindBookingsArgs = z.infer<typeof findBookingsInput>;
type CancelAppointmentArgs = z.infer<typeof cancelAppointmentInput>;
type RescheduleAppointmentArgs = z.infer<typeof rescheduleAppointmentInput>;

export function createCalendarTools(options: CalendarToolsOptions): Tool[] {
  const calendar = new ClinicCalendar(options);
  const timeoutMs = options.timeoutMs ?? 2000;
  const [checkAvailability, findBookings] = lookupTools(calendar, timeoutMs);
  const [bookAppointment, cancelAppointment, rescheduleAppointment] = changeTools(calendar, timeoutMs);
  // The order the model has always seen (it is part of the cached prompt prefix).
  return [checkAvailability, bookAppointment, findBookings, cancelAppointment, rescheduleAppointment] as Tool[];
}

/** Tools that only read the calendar. */
function lookupTools(calendar: ClinicCalendar, timeoutMs: number): Tool[] {
  const checkAvailability: Tool<CheckAvailabilityArgs, AvailabilityResult> = {
    name: 'check_availability',
    description:
      'List the free appointment times on a date (YYYY-MM-DD). Pass a time (HH:MM) to also learn whether that exact time is free.',
    input: checkAvailabilityInput,
    timeoutMs,
    async run(args, { signal }) {
      signal.throwIfAborted();
      const result = await calendar.availability(args.date, args.time);
      signal.throwIfAborted();
      return result;
    },
  };

  const findBookings: Tool<FindBookingsArgs, BookingsResult> = {
    name: 'find_bookings',
    description: "List the caller's upcoming appointments by phone number (digits only).",
    input: findBookingsInput,
    timeoutMs,
    async run(args, { signal }) {
      signal.throwIfAborted();
      const bookings = await calendar.upcoming(args.phone);
      signal.throwIfAborted();
      return { bookings };
    },
  };
  return [checkAvailability, findBookings] as Tool[];
}

/** Tools that change a booking (the brain confirms with the caller first). */
function changeTools(calendar: ClinicCalendar, timeoutMs: number): Tool[] {
  const bookAppointment: Tool<BookAppointmentArgs, BookingResult> = {
    name: 'book_appointment',
    description:
      "Book an appointment for the caller at a free slot. Confirm the date, time and phone number with the caller first.",
    input: bookAppointmentInput,
    timeoutMs,
    async run(args, { signal }) {
      signal.throwIfAborted();
      return { booking: await calendar.book(args) };
    },
  };

  const cancelAppointment: Tool<CancelAppointmentArgs, BookingResult> = {
    name: 'cancel_appointment',
    description: 'Cancel an upcoming appointment by its booking id. Confirm with the caller first.',
    input: cancelAppointmentInput,
    timeoutMs,
    async run(args, { signal }) {
      signal.throwIfAborted();
      return { booking: await calendar.cancel(args.bookingId) };
    },
  };

  const rescheduleAppointment: Tool<RescheduleAppointmentArgs, BookingResult> = {
    name: 'reschedule_appointment',
    description:
      'Move an upcoming appointment (by booking id) to another free date and time. The old time is kept if the new one is not available.',
    input: rescheduleAppointmentInput,
    timeoutMs,
    async run(args, { signal }) {
      signal.throwIfAborted();
      return { booking: await calendar.reschedule(args.bookingId, args.date, args.time) };
    },
  };

  return [bookAppointment, cancelAppointment, rescheduleAppointment] as Tool[];
}

/** The rules behind the tools, kept apart from the Tool plumbing. */
class ClinicCalendar {
  private readonly store: BookingPort;
  private readonly config: CalendarConfig;
  private readonly clock: Clock;
  /** The clinic day the schedule was last seeded from; reseeded when the day rolls over. */
  private seeding: { day: string; done: Promise<unknown> } | undefined;

  constructor(options: CalendarToolsOptions) {
    this.config = options.calendar;
    this.clock = options.clock;
    if (options.bookings) this.store = options.bookings;
    else if (options.db) this.store = new EmbeddedBookings(options.db, () => options.clock.now());
    else throw new Error('calendar tools need a booking store (bookings) or a database (db)');
    void this.ensureSeeded().catch(() => undefined); // a failure here is retried by the first tool call
  }

  async availability(date: string, time: string | undefined): Promise<AvailabilityResult> {
    const now = await this.ensureSeeded();
    requireCalendarDate(date);
    const closed = this.config.hours[weekdayOf(date)] === undefined;
    const free = closed ? [] : await reachable(this.store.freeSlots(date));
    const available = free.filter((slot) => !isPast(now, date, slot));
    const result: AvailabilityResult = { date, available, closed };
    if (time !== undefined) result.requestedFree = available.includes(time);
    return result;
  }

  async book(args: BookAppointmentArgs): Promise<Booking> {
    await this.requireBookable(args.date, args.time);
    return bookingOrThrow(await reachable(this.store.book(args)));
  }

  async upcoming(phone: string): Promise<Booking[]> {
    const now = await this.ensureSeeded();
    return reachable(this.store.upcomingByPhone(phone, now.date, now.time));
  }

  async cancel(bookingId: string): Promise<Booking> {
    const now = await this.ensureSeeded();
    const booking = await reachable(this.store.get(bookingId));
    if (booking && booking.status === 'booked' && isPast(now, booking.date, booking.time)) {
      throw new ToolError('past', `booking ${bookingId} was on ${booking.date} at ${booking.time}, which has passed`);
    }
    return bookingOrThrow(await reachable(this.store.cancel(bookingId)));
  }

  async reschedule(bookingId: string, date: string, time: string): Promise<Booking> {
    await this.requireBookable(date, time);
    return bookingOrThrow(await reachable(this.store.reschedule(bookingId, date, time)));
  }

  /** Throws the ToolError a caller can act on: invalid-date, past, closed, no-such-slot, beyond-horizon. */
  private async requireBookable(date: string, time: string): Promise<void> {
    const now = await this.ensureSeeded();
    requireCalendarDate(date);
    if (isPast(now, date, time)) throw new ToolError('past', `${date} at ${time} has already passed`);
    const hours = this.config.hours[weekdayOf(date)];
    if (!hours) throw new ToolError('closed', `the clinic is closed on ${weekdayOf(date)}s`);
    if (time < hours.open || time >= hours.close) {
      throw new ToolError('closed', `on ${weekdayOf(date)}s the clinic is open from ${hours.open} to ${hours.close}`);
    }
    if (!slotTimesOn(this.config, date).includes(time)) {
      throw new ToolError(
        'no-such-slot',
        `appointments start every ${this.config.slotMinutes} minutes from ${hours.open}; ${time} is not a start time`,
      );
    }
    const lastDay = addDays(now.date, this.config.daysAhead - 1);
    if (date > lastDay) {
      throw new ToolError('beyond-horizon', `appointments can be booked up to ${lastDay}`);
    }
  }

  /** Extends the seeded schedule when the clinic's day has changed; resolves to the clinic's now. */
  private async ensureSeeded() {
    const now = localDateTime(this.clock.now(), this.config.timezone);
    if (this.seeding?.day !== now.date) {
      const done = seedSchedule(this.store, this.config, this.clock);
      this.seeding = { day: now.date, done };
      // A failed seed is retried on the next call.
      done.catch(() => this.seeding?.done === done && (this.seeding = undefined));
    }
    await reachable(this.seeding!.done);
    return now;
  }
}

/** A store that does not answer becomes a ToolError the dialog can speak from. */
async function reachable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof StoreUnavailableError) {
      throw new ToolError('unavailable', 'the booking system is not answering right now; apologise and offer to connect the caller to a person', { cause: error });
    }
    throw error;
  }
}

/**
 * Adds the bookable slots from the clinic's today (per `clock`, in its time zone) through
 * `daysAhead - 1` days later. Existing slots are kept, so calling this again (each startup, or
 * when the day rolls over) only extends the horizon. Returns how many slots were added.
 */
export function seedSchedule(target: BookingPort, calendar: CalendarConfig, clock: Clock): Promise<number>;
export function seedSchedule(target: Database | BookingStore, calendar: CalendarConfig, clock: Clock): number;
export function seedSchedule(target: Database | BookingStore | BookingPort, calendar: CalendarConfig, clock: Clock): number | Promise<number> {
  const store = target instanceof BookingStore || !('prepare' in target) ? target : new BookingStore(target, () => clock.now());
  const today = localDateTime(clock.now(), calendar.timezone).date;
  const slots: { date: string; time: string }[] = [];
  for (let offset = 0; offset < calendar.daysAhead; offset++) {
    const date = addDays(today, offset);
    for (const time of slotTimesOn(calendar, date)) slots.push({ date, time });
  }
  return store.addSlots(slots);
}

/** The store's expected failures become the ToolErrors the dialog speaks from. */
function bookingOrThrow(change: BookingChange): Booking {
  if (change.ok) return change.booking;
  throw new ToolError(change.code, change.message);
}

function requireCalendarDate(date: string): void {
  if (!isCalendarDate(date)) throw new ToolError('invalid-date', `${date} is not a calendar date`);
}
