/**
 * The BookingPort over the embedded SQLite BookingStore (agent.db): same rules, async surface.
 * SQLite answers in microseconds, so running it inline is cheaper than a thread hop.
 */
import { BookingStore } from '../booking-store.js';
import type { Database } from '../database.js';
import type { BookingChange, BookingFailureCode, BookingPort, NewBooking, StoredBooking } from '../ports.js';

const failureCodes = new Set<string>(['no-such-slot', 'slot-taken', 'not-found']);

/**
 * BookingStore reports expected outcomes either as a BookingChange or (older builds) by throwing
 * an error with one of the failure codes; both become a BookingChange here.
 */
function asChange(write: () => unknown): BookingChange {
  try {
    const result = write() as BookingChange | StoredBooking;
    return 'ok' in result ? result : { ok: true, booking: result };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && failureCodes.has(code)) {
      return { ok: false, code: code as BookingFailureCode, message: (error as Error).message };
    }
    throw error;
  }
}

export class EmbeddedBookings implements BookingPort {
  private readonly store: BookingStore;

  constructor(
    private readonly db: Database,
    now: () => number = Date.now,
  ) {
    this.store = new BookingStore(db, now);
  }

  async addSlots(slots: ReadonlyArray<{ date: string; time: string }>): Promise<number> {
    const insert = this.db.prepare('INSERT OR IGNORE INTO slots (date, time) VALUES (?, ?)');
    return this.db
      .transaction(() => slots.reduce((added, slot) => added + insert.run(slot.date, slot.time).changes, 0))
      .immediate();
  }

  async hasSlot(date: string, time: string): Promise<boolean> {
    return this.store.hasSlot(date, time);
  }

  async freeSlots(date: string): Promise<string[]> {
    return this.store.freeSlots(date);
  }

  async get(bookingId: string): Promise<StoredBooking | undefined> {
    return this.store.get(bookingId);
  }

  async upcomingByPhone(phone: string, fromDate: string, fromTime: string): Promise<StoredBooking[]> {
    return this.store.upcomingByPhone(phone, fromDate, fromTime);
  }

  async book(booking: NewBooking): Promise<BookingChange> {
    return asChange(() => this.store.book(booking));
  }

  async cancel(bookingId: string): Promise<BookingChange> {
    return asChange(() => this.store.cancel(bookingId));
  }

  async reschedule(bookingId: string, date: string, time: string): Promise<BookingChange> {
    return asChange(() => this.store.reschedule(bookingId, date, time));
  }
}
