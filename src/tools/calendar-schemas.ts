/**
 * Inputs of the clinic tools, shared by the tools (which validate) and both brains (which call
 * them). Dates are `YYYY-MM-DD` and times `HH:MM` (24 h) in the clinic's time zone.
 */
import { z } from 'zod';
import type { CLINIC_TOOL_NAMES } from '../config/business-schema.js';

export const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');
export const hhmmTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM');
/** Digits only, 7–15 of them (E.164 without the plus, or a national number). */
export const phoneDigits = z.string().regex(/^\d{7,15}$/, 'expected 7–15 digits');

export const checkAvailabilityInput = z
  .object({ date: isoDate, time: hhmmTime.optional() })
  .strict();

export const bookAppointmentInput = z
  .object({ name: z.string().min(1).max(100), phone: phoneDigits, date: isoDate, time: hhmmTime, service: z.string().max(100).optional() })
  .strict();

export const findBookingsInput = z.object({ phone: phoneDigits }).strict();

export const cancelAppointmentInput = z.object({ bookingId: z.string().min(1) }).strict();

export const rescheduleAppointmentInput = z
  .object({ bookingId: z.string().min(1), date: isoDate, time: hhmmTime })
  .strict();

export const transferToPersonInput = z.object({ reason: z.string().max(200).optional() }).strict();

/** One booking as tools return it: the store's own type. */
export type { Booking } from '../store/booking-store.js';

/** The contract between tools and brains: names and their inputs. Results are plain JSON. */
export const clinicToolInputs = {
  check_availability: checkAvailabilityInput, // → { date, available: string[] (HH:MM), requestedFree?: boolean }
  book_appointment: bookAppointmentInput, // → { booking: Booking } | throws ToolError('slot-taken' | 'closed' | 'past')
  find_bookings: findBookingsInput, // → { bookings: Booking[] } (upcoming, status booked)
  cancel_appointment: cancelAppointmentInput, // → { booking: Booking }
  reschedule_appointment: rescheduleAppointmentInput, // → { booking: Booking } | ToolError('slot-taken' ...)
  transfer_to_person: transferToPersonInput, // → { transferred: boolean, reason?: 'not-configured' | ... }
} as const satisfies Record<(typeof CLINIC_TOOL_NAMES)[number], z.ZodType>;

export type ClinicToolName = keyof typeof clinicToolInputs;
