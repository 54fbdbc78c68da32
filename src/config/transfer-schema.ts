/**
 * `transfer:` in the agent config: how "talk to a person" is handled. Numbers are config (they
 * are not secrets); TRANSFER_NUMBER in the environment is the fallback when no target is listed.
 */
import { z } from 'zod';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24 h)');
const weekday = z.enum(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']);
/** E.164 number or a SIP URI: what Twilio can dial. */
const dialable = z.string().regex(/^(\+[1-9]\d{6,14}|sips?:\S+@\S+)$/, 'expected an E.164 number (+15551234567) or a sip: URI');

/** `business` = the clinic's opening hours; `always`; or explicit hours per weekday (missing = closed). */
export const transferHoursSchema = z.union([
  z.enum(['business', 'always']),
  z.partialRecord(weekday, z.object({ open: hhmm, close: hhmm }).strict()),
]);

/** What the caller wants when they ask for a person (the flow's current task, or `general`). */
export const transferTopicSchema = z.enum(['book', 'reschedule', 'cancel', 'callback', 'general']);

export const transferTargetSchema = z
  .object({
    /** Who answers, for the call record and logs ("front desk"). */
    label: z.string().min(1).default('front desk'),
    number: dialable,
    /** Only for these topics; omitted = any topic. The first matching target in the list wins. */
    topics: z.array(transferTopicSchema).optional(),
    /** When this target takes calls; omitted = the section's `hours`. */
    hours: transferHoursSchema.optional(),
  })
  .strict();

export const transferSchema = z
  .object({
    /**
     * `warm`: hold in a conference while the person hears a summary and presses 1; back to the
     * agent (and a callback offer) when nobody takes it. `cold`: a blind `<Dial>`. Omitted = warm
     * when Twilio credentials are set (without them every transfer becomes a callback offer).
     */
    mode: z.enum(['warm', 'cold']).optional(),
    targets: z.array(transferTargetSchema).default([]),
    hours: transferHoursSchema.default('business'),
    /** How long the person's phone rings before we give up, s (Twilio's `timeout`, 5–600). */
    ringTimeoutSeconds: z.number().int().min(5).max(600).default(20),
    /** How long the person has to press 1 after the summary, s. */
    acceptTimeoutSeconds: z.number().int().min(3).max(60).default(8),
    /**
     * The longest a caller waits on hold when Twilio reports nothing (a lost status callback, a
     * stuck leg), s: then any instance brings them back to the agent and a callback is offered.
     * Omitted = ringTimeoutSeconds + acceptTimeoutSeconds + 60 (room for the whisper).
     */
    holdTimeoutSeconds: z.number().int().min(1).max(3600).optional(),
    /** Hold audio for the caller (`waitUrl`); omitted = Twilio's default hold music. */
    holdMusicUrl: z.url().optional(),
    /** Caller ID shown to the person; omitted = the number the caller dialled. */
    callerId: dialable.optional(),
    /** Twilio `<Say>` voice for the whisper and notices on the person's leg. */
    whisperVoice: z.string().min(1).default('Polly.Joanna'),
    messages: z
      .object({
        accept: z.string().default('Press 1 to take the call. Press any other key or hang up to decline.'),
        declined: z.string().default('Okay, the caller will be offered a call back. Goodbye.'),
        /** The person pressed 1 after the caller had hung up (or been taken back). */
        callerGone: z.string().default('Sorry, the caller is no longer waiting. Goodbye.'),
        /** The agent's line before the caller goes on hold: what happens next. */
        warmHold: z.string().default('I will put you through to our {target} and tell them what you need. Please stay on the line; if nobody can take your call, I will come back to you.'),
        /** Offline path (no phone system to transfer through). */
        noPhoneLine: z.string().default('I would transfer you to a member of our team, but I cannot connect calls from this line.'),
        /** Said by the agent when the transfer did not go through and the caller is back. */
        backFromHold: z.string().default('I am sorry, nobody could take your call just now.'),
        callbackOffer: z.string().default('I can have a member of our team call you back.'),
        outsideHours: z.string().default('Our team is not available to take calls right now.'),
        callbackWhen: z.string().default('When would be a good time for us to call you? For example, tomorrow at ten a.m.'),
        callbackTime: z.string().default('And at what time on that day?'),
        callbackBooked: z.string().default('Thank you. We will call you back on {phone} on {date} at {time}.'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type TransferConfig = z.infer<typeof transferSchema>;
export type TransferHours = z.infer<typeof transferHoursSchema>;
export type TransferTopic = z.infer<typeof transferTopicSchema>;
export type TransferTarget = z.infer<typeof transferTargetSchema>;
