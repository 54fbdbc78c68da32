/**
 * Bookings in PostgreSQL. The partial unique index `bookings_one_live_per_slot` is the guard
 * against double booking across machines: of two calls racing for a slot, the second INSERT or
 * UPDATE fails with unique_violation on that index and becomes `slot-taken`.
 */
import { randomInt } from 'node:crypto';
import type { BookingChange, BookingPort, NewBooking, StoredBooking } from '../ports.js';
import { constraintOf, query, transaction, type Pool } from './pool.js';
import { BOOKING_COLUMNS as columns, toBooking, type BookingRow } from '../rows.js';
const LIVE_SLOT_INDEX = 'bookings_one_live_per_slot';

const slotTaken = (date: string, time: string): BookingChange => ({ ok: false, code: 'slot-taken', message: `${date} at ${time} is already booked` });
const noSuchSlot = (date: string, time: string): BookingChange => ({ ok: false, code: 'no-such-slot', message: `${date} at ${time} is not an appointment slot` });
const notFound = (bookingId: string): BookingChange => ({ ok: false, code: 'not-found', message: `no current booking with id ${bookingId}` });

const isUniqueViolation = (error: unknown, constraint: string) => {
  const c = constraintOf(error);
  return c.code === '23505' && c.constraint === constraint;
};

/** Six digits: short enough to read out or key in on a phone. */
const newBookingId = () => String(randomInt(0, 1_000_000)).padStart(6, '0');

export class PostgresBookings implements BookingPort {
  constructor(
    private readonly pool: Pool,
    private readonly now: () => number = Date.now,
  ) {}

  async addSlots(slots: ReadonlyArray<{ date: string; time: string }>): Promise<number> {
    if (slots.length === 0) return 0;
    const result = await query(
      this.pool,
      `INSERT INTO slots (date, time) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`,
      [slots.map((s) => s.date), slots.map((s) => s.time)],
    );
    return result.rowCount ?? 0;
  }

  async hasSlot(date: string, time: string): Promise<boolean> {
    return ((await query(this.pool, 'SELECT 1 FROM slots WHERE date = $1 AND time = $2', [date, time])).rowCount ?? 0) > 0;
  }

  async freeSlots(date: string): Promise<string[]> {
    const result = await query<{ time: string }>(
      this.pool,
      `SELECT s.time FROM slots s
       WHERE s.date = $1 AND NOT EXISTS (
         SELECT 1 FROM bookings b WHERE b.date = s.date AND b.time = s.time AND b.status = 'booked')
       ORDER BY s.time`,
      [date],
    );
    return result.rows.map((row) => row.time);
  }

  async get(bookingId: string): Promise<StoredBooking | undefined> {
    const result = await query<BookingRow>(this.pool, `SELECT ${columns} FROM bookings WHERE id = $1`, [bookingId]);
    return result.rows[0] && toBooking(result.rows[0]);
  }

  async upcomingByPhone(phone: string, fromDate: string, fromTime: string): Promise<StoredBooking[]> {
    const result = await query<BookingRow>(
      this.pool,
      `SELECT ${columns} FROM bookings
       WHERE phone = $1 AND status = 'booked' AND (date > $2 OR (date = $2 AND time >= $3))
       ORDER BY date, time`,
      [phone, fromDate, fromTime],
    );
    return result.rows.map(toBooking);
  }

  async book(booking: NewBooking): Promise<BookingChange> {
    const at = new Date(this.now());
    const service = booking.service ?? null;
    // One statement, no transaction: the slot check and the insert are atomic, and a failed
    // attempt (id collision) leaves nothing to roll back before the retry.
    for (let attempt = 0; ; attempt++) {
      const id = newBookingId();
      try {
        const result = await query(
          this.pool,
          `INSERT INTO bookings (id, name, phone, date, time, service, status, created_at, updated_at)
           SELECT $1, $2, $3, $4, $5, $6, 'booked', $7, $7
           WHERE EXISTS (SELECT 1 FROM slots WHERE date = $4 AND time = $5)`,
          [id, booking.name, booking.phone, booking.date, booking.time, service, at],
        );
        if (result.rowCount === 0) return noSuchSlot(booking.date, booking.time);
        return { ok: true, booking: { bookingId: id, ...booking, service, status: 'booked' } };
      } catch (error) {
        if (isUniqueViolation(error, LIVE_SLOT_INDEX)) return slotTaken(booking.date, booking.time);
        if (isUniqueViolation(error, 'bookings_pkey') && attempt < 5) continue;
        throw error;
      }
    }
  }

  async cancel(bookingId: string): Promise<BookingChange> {
    const result = await query<BookingRow>(
      this.pool,
      `UPDATE bookings SET status = 'cancelled', updated_at = $2 WHERE id = $1 AND status = 'booked' RETURNING ${columns}`,
      [bookingId, new Date(this.now())],
    );
    const row = result.rows[0];
    return row ? { ok: true, booking: toBooking(row) } : notFound(bookingId);
  }

  async reschedule(bookingId: string, date: string, time: string): Promise<BookingChange> {
    try {
      return await transaction(this.pool, async (client) => {
        const current = await query<BookingRow>(
          client,
          `SELECT ${columns} FROM bookings WHERE id = $1 AND status = 'booked' FOR UPDATE`,
          [bookingId],
        );
        const row = current.rows[0];
        if (!row) return notFound(bookingId);
        if (row.date === date && row.time === time) return { ok: true, booking: toBooking(row) };
        const slot = await query(client, 'SELECT 1 FROM slots WHERE date = $1 AND time = $2', [date, time]);
        if (slot.rowCount === 0) return noSuchSlot(date, time);
        await query(client, 'UPDATE bookings SET date = $2, time = $3, updated_at = $4 WHERE id = $1', [bookingId, date, time, new Date(this.now())]);
        return { ok: true, booking: { ...toBooking(row), date, time } };
      });
    } catch (error) {
      if (isUniqueViolation(error, LIVE_SLOT_INDEX)) return slotTaken(date, time);
      throw error;
    }
  }
}
