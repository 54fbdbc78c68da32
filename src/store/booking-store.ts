/**
 * Bookings over the schedule's slots. Every write is one IMMEDIATE transaction, and the partial
 * unique index `bookings_one_live_per_slot` is what actually prevents double booking: whichever
 * connection commits second gets a constraint error, which comes back as a `slot-taken` result.
 * Business rules that depend on "now" or opening hours (past, closed) and the schedule itself live
 * in the calendar tools; the store owns its types and knows nothing of tools.
 *
 * Writes return a `BookingChange` instead of throwing for the outcomes a caller acts on (the slot
 * is taken, does not exist, the booking is gone); only real faults (I/O, corruption) throw.
 */
import { randomInt } from 'node:crypto';
import type { Database } from './database.js';
import type { BookingChange, BookingFailureCode, NewBooking, StoredBooking } from './ports.js';
import { BOOKING_COLUMNS, toBooking, type BookingRow } from './rows.js';

/** One booking as stored (and as the tools report it): the port's type, one definition. */
export type Booking = StoredBooking;
export type { BookingChange, BookingFailureCode, NewBooking };

function sqliteCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

const slotTaken = (date: string, time: string): BookingChange => ({ ok: false, code: 'slot-taken', message: `${date} at ${time} is already booked` });
const noSuchSlot = (date: string, time: string): BookingChange => ({ ok: false, code: 'no-such-slot', message: `${date} at ${time} is not an appointment slot` });
const notFound = (bookingId: string): BookingChange => ({ ok: false, code: 'not-found', message: `no current booking with id ${bookingId}` });

/** Six digits: short enough to read out or key in on a phone. */
function newBookingId(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

export class BookingStore {
  constructor(
    private readonly db: Database,
    /** Timestamps for created/updated columns. */
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds bookable slots (existing ones are kept); returns how many were new. One transaction. */
  addSlots(slots: Iterable<{ date: string; time: string }>): number {
    const insert = this.db.prepare('INSERT OR IGNORE INTO slots (date, time) VALUES (?, ?)');
    return this.db
      .transaction(() => {
        let added = 0;
        for (const slot of slots) added += insert.run(slot.date, slot.time).changes;
        return added;
      })
      .immediate();
  }

  hasSlot(date: string, time: string): boolean {
    return this.db.prepare('SELECT 1 FROM slots WHERE date = ? AND time = ?').get(date, time) !== undefined;
  }

  /** Seeded slots on `date` with no live booking, in time order. */
  freeSlots(date: string): string[] {
    const rows = this.db
      .prepare(
        `SELECT s.time FROM slots s
         WHERE s.date = ? AND NOT EXISTS (
           SELECT 1 FROM bookings b WHERE b.date = s.date AND b.time = s.time AND b.status = 'booked')
         ORDER BY s.time`,
      )
      .all(date) as { time: string }[];
    return rows.map((row) => row.time);
  }

  get(bookingId: string): Booking | undefined {
    const row = this.db.prepare(`SELECT ${BOOKING_COLUMNS} FROM bookings WHERE id = ?`).get(bookingId) as
      | BookingRow
      | undefined;
    return row && toBooking(row);
  }

  /** Live bookings for `phone` at or after `fromDate` `fromTime`, soonest first. */
  upcomingByPhone(phone: string, fromDate: string, fromTime: string): Booking[] {
    const rows = this.db
      .prepare(
        `SELECT ${BOOKING_COLUMNS} FROM bookings
         WHERE phone = ? AND status = 'booked' AND (date > ? OR (date = ? AND time >= ?))
         ORDER BY date, time`,
      )
      .all(phone, fromDate, fromDate, fromTime) as BookingRow[];
    return rows.map(toBooking);
  }

  /** Fails with 'no-such-slot' if the slot was never seeded, 'slot-taken' if it is booked. */
  book(booking: NewBooking): BookingChange {
    const insert = this.db.prepare(
      `INSERT INTO bookings (id, name, phone, date, time, service, status, created_at, updated_at)
       VALUES (@id, @name, @phone, @date, @time, @service, 'booked', @at, @at)`,
    );
    return this.db
      .transaction((): BookingChange => {
        if (!this.hasSlot(booking.date, booking.time)) return noSuchSlot(booking.date, booking.time);
        const at = new Date(this.now()).toISOString();
        // A random id can collide with an old booking's: retry a few times with a fresh one.
        for (let attempt = 0; ; attempt++) {
          const id = newBookingId();
          try {
            insert.run({ ...booking, service: booking.service ?? null, id, at });
            return { ok: true, booking: { bookingId: id, ...booking, service: booking.service ?? null, status: 'booked' } };
          } catch (error) {
            const code = sqliteCode(error);
            if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' && attempt < 5) continue;
            if (code === 'SQLITE_CONSTRAINT_UNIQUE') return slotTaken(booking.date, booking.time);
            throw error;
          }
        }
      })
      .immediate();
  }

  /** Fails with 'not-found' unless `bookingId` is a live booking. */
  cancel(bookingId: string): BookingChange {
    return this.db
      .transaction((): BookingChange => {
        const booking = this.live(bookingId);
        if (!booking) return notFound(bookingId);
        this.db
          .prepare(`UPDATE bookings SET status = 'cancelled', updated_at = ? WHERE id = ?`)
          .run(new Date(this.now()).toISOString(), bookingId);
        return { ok: true, booking: { ...booking, status: 'cancelled' } };
      })
      .immediate();
  }

  /**
   * Moves a live booking to another slot with one UPDATE, so taking the new slot and releasing
   * the old one commit together; on 'slot-taken' nothing changes and the old booking stands.
   * Fails with 'not-found', 'no-such-slot' or 'slot-taken'.
   */
  reschedule(bookingId: string, date: string, time: string): BookingChange {
    return this.db
      .transaction((): BookingChange => {
        const booking = this.live(bookingId);
        if (!booking) return notFound(bookingId);
        if (booking.date === date && booking.time === time) return { ok: true, booking };
        if (!this.hasSlot(date, time)) return noSuchSlot(date, time);
        try {
          this.db
            .prepare('UPDATE bookings SET date = ?, time = ?, updated_at = ? WHERE id = ?')
            .run(date, time, new Date(this.now()).toISOString(), bookingId);
        } catch (error) {
          if (sqliteCode(error) === 'SQLITE_CONSTRAINT_UNIQUE') return slotTaken(date, time);
          throw error;
        }
        return { ok: true, booking: { ...booking, date, time } };
      })
      .immediate();
  }

  private live(bookingId: string): Booking | null {
    const booking = this.get(bookingId);
    return booking && booking.status === 'booked' ? booking : null;
  }
}
