/**
 * The BookingPort over the embedded SQLite BookingStore (agent.db): same rules, async surface.
 * SQLite answers in microseconds, so running it inline is cheaper than a thread hop.
 */
import { BookingStore } from '../booking-store.js';
import type { Database } from '../database.js';
import type { BookingChange, BookingPort, NewBooking, StoredBooking } from '../ports.js';

export class EmbeddedBookings implements BookingPort {
  private readonly store: BookingStore;

  constructor(db: Database, now: () => number = Date.now) {
    this.store = new BookingStore(db, now);
  }

  async addSlots(slots: ReadonlyArray<{ date: string; time: string }>): Promise<number> {
    return this.store.addSlots(slots);
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
    return this.store.book(booking);
  }

  async cancel(bookingId: string): Promise<BookingChange> {
    return this.store.cancel(bookingId);
  }

  async reschedule(bookingId: string, date: string, time: string): Promise<BookingChange> {
    return this.store.reschedule(bookingId, date, time);
  }
}
