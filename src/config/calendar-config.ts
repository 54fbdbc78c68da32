/** The clinic's bookable schedule, part of the agent config (`business.schedule`). */
import { z } from 'zod';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24 h)');
const weekday = z.enum(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']);

export const calendarConfigSchema = z
  .object({
    /** IANA time zone the clinic works in; dates and times spoken by callers are in it. */
    timezone: z.string().min(1).default('America/New_York'),
    /** Opening hours per weekday; a missing weekday is closed. */
    hours: z
      .partialRecord(weekday, z.object({ open: hhmm, close: hhmm }).strict())
      .default({
        monday: { open: '09:00', close: '17:00' },
        tuesday: { open: '09:00', close: '17:00' },
        wednesday: { open: '09:00', close: '17:00' },
        thursday: { open: '09:00', close: '17:00' },
        friday: { open: '09:00', close: '15:00' },
      }),
    /** Length of one appointment slot, minutes. */
    slotMinutes: z.number().int().min(5).max(240).default(30),
    /** How far ahead the schedule is seeded and bookable, days. */
    daysAhead: z.number().int().min(1).max(365).default(60),
  })
  .strict();

export type CalendarConfig = z.infer<typeof calendarConfigSchema>;
export type Weekday = z.infer<typeof weekday>;
