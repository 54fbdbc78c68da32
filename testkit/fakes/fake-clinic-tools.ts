/**
 * A hand-written in-memory clinic for dialog tests: weekdays 09:00–17:00 (Fri to 15:00), 30-minute
 * slots, some taken. Validates inputs with the real schemas so a brain passing bad args fails.
 */
import { clinicToolInputs, type Booking, type ClinicToolName } from '../../src/tools/calendar-schemas.js';
import type { ToolOutcome } from '../../src/dialog/tool-invoker.js';
import type { ClinicBackend } from './gated-tools.js';

export class FakeClinicTools implements ClinicBackend {
  readonly calls: { name: ClinicToolName; args: Record<string, unknown> }[] = [];
  readonly bookings: Booking[] = [];
  readonly taken = new Set<string>();
  transferConfigured = true;
  private nextId = 1;

  constructor(options: { taken?: string[]; bookings?: Omit<Booking, 'bookingId' | 'status'>[] } = {}) {
    for (const t of options.taken ?? []) this.taken.add(t);
    for (const b of options.bookings ?? []) this.add(b);
  }

  add(b: Omit<Booking, 'bookingId' | 'status'>): Booking {
    const booking: Booking = { ...b, bookingId: `b${this.nextId++}`, status: 'booked' };
    this.bookings.push(booking);
    this.taken.add(`${b.date} ${b.time}`);
    return booking;
  }

  private slots(date: string): string[] {
    const day = new Date(`${date}T12:00:00Z`).getUTCDay();
    if (day === 0 || day === 6) return [];
    const close = day === 5 ? 15 : 17;
    const out: string[] = [];
    for (let h = 9; h < close; h++) for (const m of ['00', '30']) out.push(`${String(h).padStart(2, '0')}:${m}`);
    return out;
  }

  private free(date: string): string[] {
    return this.slots(date).filter((t) => !this.taken.has(`${date} ${t}`));
  }

  async call(name: ClinicToolName, rawArgs: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutcome> {
    if (signal.aborted) return { ok: false, error: { code: 'aborted', message: 'aborted' } };
    const args = clinicToolInputs[name].parse(rawArgs) as Record<string, string>;
    this.calls.push({ name, args });
    const fail = (code: string) => ({ ok: false as const, error: { code, message: code } });
    switch (name) {
      case 'check_availability': {
        const available = this.free(args.date!);
        return { ok: true, result: { date: args.date, available, ...(args.time ? { requestedFree: available.includes(args.time) } : {}) } };
      }
      case 'book_appointment': {
        if (this.slots(args.date!).length === 0) return fail('closed');
        if (!this.free(args.date!).includes(args.time!)) return fail('slot-taken');
        const booking = this.add({ name: args.name!, phone: args.phone!, date: args.date!, time: args.time!, service: args.service ?? null });
        return { ok: true, result: { booking } };
      }
      case 'find_bookings':
        return { ok: true, result: { bookings: this.bookings.filter((b) => b.phone === args.phone && b.status === 'booked') } };
      case 'cancel_appointment': {
        const booking = this.bookings.find((b) => b.bookingId === args.bookingId);
        if (!booking) return fail('not-found');
        booking.status = 'cancelled';
        this.taken.delete(`${booking.date} ${booking.time}`);
        return { ok: true, result: { booking } };
      }
      case 'reschedule_appointment': {
        const booking = this.bookings.find((b) => b.bookingId === args.bookingId);
        if (!booking) return fail('not-found');
        if (!this.free(args.date!).includes(args.time!)) return fail('slot-taken');
        this.taken.delete(`${booking.date} ${booking.time}`);
        Object.assign(booking, { date: args.date, time: args.time });
        this.taken.add(`${booking.date} ${booking.time}`);
        return { ok: true, result: { booking } };
      }
      case 'transfer_to_person':
        return { ok: true, result: this.transferConfigured ? { transferred: true } : { transferred: false, reason: 'not-configured' } };
    }
  }
}
