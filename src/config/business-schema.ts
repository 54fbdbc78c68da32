/**
 * Agent config sections about the business and the deployment around the dialog: persona (for the
 * LLM brain), business facts and schedule, enabled tools, slots, prices, LLM and recording.
 */
import { z } from 'zod';
import { calendarConfigSchema } from './calendar-config.js';

/** The clinic tools a config may enable; tools/calendar-schemas.ts is checked against this list. */
export const CLINIC_TOOL_NAMES = [
  'check_availability',
  'book_appointment',
  'find_bookings',
  'cancel_appointment',
  'reschedule_appointment',
  'transfer_to_person',
] as const;
export const clinicToolNameSchema = z.enum(CLINIC_TOOL_NAMES);

export const personaSchema = z
  .object({
    name: z.string().min(1).default('Robin'),
    systemPrompt: z
      .string()
      .min(1)
      .default(
        'You are {persona}, the friendly phone assistant of {businessName}. Keep replies short and spoken: ' +
          'one or two sentences, no lists or markdown. Use the tools to check availability and to book, ' +
          'reschedule or cancel appointments. Never invent times or bookings.',
      ),
  })
  .strict();

export const businessSchema = z
  .object({
    name: z.string().min(1).default('the clinic'),
    /** How the opening hours are said on the phone. */
    hoursText: z.string().min(1).default('We are open Monday to Thursday from nine a.m. to five p.m., and Friday from nine a.m. to three p.m.'),
    address: z.string().min(1).default('Address not configured.'),
    /** Digits only; read back digit by digit when a transfer is not possible. */
    phone: z.string().regex(/^\d{7,15}$/, 'expected 7–15 digits').optional(),
    /** Services callers may name when booking; lower-case words (they go into the speech grammar). */
    services: z.array(z.string().regex(/^[a-z]+( [a-z]+)*$/, 'lower-case words only')).default([]),
    schedule: calendarConfigSchema.prefault({}),
  })
  .strict();

export const toolsSchema = z
  .object({
    enabled: z.array(clinicToolNameSchema).default([...CLINIC_TOOL_NAMES]),
  })
  .strict();

export const slotNameSchema = z.enum(['name', 'phone', 'date', 'time', 'service', 'bookingId']);
export type SlotName = z.infer<typeof slotNameSchema>;

const slotFieldSchema = z
  .object({
    type: z.enum(['name', 'phone', 'date', 'time', 'text', 'booking']),
    /** Must be read back and confirmed with a yes before a tool uses it. */
    critical: z.boolean().default(true),
    /** How the slot is named when asking what to change ("the time"). */
    label: z.string().min(1),
  })
  .strict();

export const slotsSchema = z
  .object({
    fields: z.partialRecord(slotNameSchema, slotFieldSchema).default({
      name: { type: 'name', critical: true, label: 'the name' },
      phone: { type: 'phone', critical: true, label: 'the phone number' },
      date: { type: 'date', critical: true, label: 'the day' },
      time: { type: 'time', critical: true, label: 'the time' },
      service: { type: 'text', critical: false, label: 'the service' },
      bookingId: { type: 'booking', critical: true, label: 'the appointment' },
    }),
    /** First names the offline recogniser can understand, in addition to the built-in list. */
    names: z.array(z.string().regex(/^[a-z]+$/, 'one lower-case word')).default([]),
    useBuiltInNames: z.boolean().default(true),
    /** Read-back templates per tool; `{name}`, `{date}`, `{time}`, `{phone}`, `{oldDate}`, `{oldTime}`. */
    readBack: z
      .object({
        book_appointment: z.string().min(1).default('an appointment for {name} on {date} at {time}, with the phone number {phone}'),
        reschedule_appointment: z.string().min(1).default('moving your appointment on {oldDate} at {oldTime} to {date} at {time}'),
        cancel_appointment: z.string().min(1).default('cancelling your appointment on {date} at {time}'),
      })
      .strict()
      .prefault({}),
    /**
     * With redaction on, replace the recorded caller audio (and key presses) of turns that carried
     * personal data with silence. Turn off only for synthetic test callers whose recordings must replay.
     */
    maskCallerAudio: z.boolean().default(true),
  })
  .strict();

const perUnit = z.number().nonnegative();
export const pricesSchema = z
  .object({
    currency: z.string().length(3).default('USD'),
    sttPerMinute: perUnit.default(0),
    llmInputPerMTok: perUnit.default(0),
    llmCachedInputPerMTok: perUnit.default(0),
    llmOutputPerMTok: perUnit.default(0),
    ttsPer1kChars: perUnit.default(0),
  })
  .strict();

export const llmSchema = z
  .object({
    model: z.string().min(1).default('claude-sonnet-5-5'),
    maxTokens: z.number().int().min(16).max(8192).default(300),
  })
  .strict();

const regexString = z.string().refine((s) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}, 'expected a valid regular expression');

export const recordingSchema = z
  .object({
    enabled: z.boolean().default(false),
    redact: z
      .object({
        cardNumbers: z.boolean().default(true),
        phoneNumbers: z.boolean().default(true),
        datesOfBirth: z.boolean().default(true),
        emails: z.boolean().default(true),
        custom: z.array(regexString).default([]),
      })
      .strict()
      .prefault({}),
    /**
     * With redaction on, replace the recorded caller audio (and key presses) of turns that carried
     * personal data with silence. Turn off only for synthetic test callers whose recordings must replay.
     */
    maskCallerAudio: z.boolean().default(true),
  })
  .strict();
