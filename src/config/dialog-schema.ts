/**
 * The offline dialog section of the agent config: intents (with the phrases the speech grammar
 * accepts and their keypad keys), per-step prompts and reprompts, and the flow's fixed messages.
 * Texts may use `{placeholders}` filled at run time (see dialog/templates.ts).
 */
import { z } from 'zod';

/** Grammar words must be plain lower-case dictionary words: no digits, no punctuation. */
const grammarPhrase = z.string().regex(/^[a-z]+( [a-z]+)*$/, 'lower-case words separated by single spaces (no digits or punctuation)');

export const intentActionSchema = z.enum(['book', 'reschedule', 'cancel', 'answer', 'transfer', 'goodbye', 'repeat', 'start-over']);
export type IntentAction = z.infer<typeof intentActionSchema>;

export const intentSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_-]*$/),
    action: intentActionSchema,
    /** Whole utterances that mean this intent. */
    examples: z.array(grammarPhrase).default([]),
    /** Words or phrases that signal the intent inside a longer utterance. */
    keywords: z.array(grammarPhrase).default([]),
    /** Keypad key in menus. */
    dtmf: z.string().regex(/^[0-9*#]$/).optional(),
    /** Active in every step, not only in menus (operator, repeat, goodbye, start over). */
    global: z.boolean().default(false),
    /** Spoken answer, for `action: answer`. */
    answer: z.string().min(1).optional(),
    /**
     * The intent in a few words for a clarifying question, "Did you want {describe}?"
     * (default by action, e.g. "to cancel an appointment").
     */
    describe: z.string().min(1).optional(),
  })
  .strict()
  .refine((i) => i.action !== 'answer' || i.answer !== undefined, { message: 'an answer intent needs `answer`', path: ['answer'] })
  .refine((i) => i.examples.length + i.keywords.length > 0 || i.dtmf !== undefined, { message: 'needs examples, keywords or dtmf', path: ['examples'] });
export type IntentConfig = z.infer<typeof intentSchema>;

const stepSchema = z
  .object({
    prompt: z.string().min(1),
    /** Said after the first and second miss, in order; they must differ from the prompt. */
    reprompts: z.array(z.string().min(1)).min(2),
    /** After repeated misses: how to answer by keypad or reach a person. */
    keypad: z.string().min(1),
  })
  .strict();

const step = (prompt: string, reprompts: [string, string], keypad: string) => stepSchema.default({ prompt, reprompts, keypad });
const MENU_KEYS = 'You can also use your keypad: press one to book, two to reschedule, three to cancel, four for our hours and address, or zero to talk to a person.';

export const stepsSchema = z
  .object({
    menu: step('You can book, reschedule or cancel an appointment, or ask for our opening hours and address. What would you like to do?', [
      "Sorry, I didn't catch that. You can say book an appointment, reschedule, cancel, or opening hours.",
      'Please tell me what you would like to do, for example: book an appointment.',
    ], MENU_KEYS),
    anythingElse: step('Is there anything else I can help you with?', [
      'Is there anything else? You can book, reschedule or cancel an appointment.',
      'If you are all done, just say goodbye.',
    ], MENU_KEYS),
    date: step('What day would you like?', [
      'Sorry, which day? For example, tomorrow, or next Tuesday.',
      'Please say a day, like Monday, or March twenty fourth.',
    ], 'You can also type the month and day as four digits, for example zero three two four for March twenty fourth. Or press zero to talk to a person.'),
    time: step('What time would suit you?', [
      'Sorry, what time? For example, ten a.m. or two thirty p.m.',
      'Please say a time, like nine thirty in the morning.',
    ], 'You can also type the time as four digits, for example zero two three zero for two thirty. Or press zero to talk to a person.'),
    name: step('What name should I put the appointment under?', [
      'Sorry, what is your first name?',
      'Please say just your first name.',
    ], 'If I cannot get your name, press zero and a person will help you.'),
    phoneChoice: step('Should we use the number you are calling from, ending in {callerIdEnding}?', [
      'Can we reach you at the number ending in {callerIdEnding}? Please say yes or no.',
      'Say yes to use this number, or say a different number digit by digit.',
    ], 'Press one for yes, or type a different number followed by the pound key.'),
    phone: step('What phone number should I use? Please say it digit by digit.', [
      'Sorry, I did not get that number. Please say it one digit at a time.',
      'Please say the phone number slowly, digit by digit, for example five five five, one two three, four five six seven.',
    ], 'You can also type the number on your keypad and press the pound key. Press star to start again.'),
    pickBooking: step('Which appointment do you mean?', [
      'Sorry, which one? You can say the first one or the second one.',
      'Please say first, second or third.',
    ], 'Press one for the first appointment, two for the second, and so on.'),
    confirm: step('Is that right?', [
      'Sorry, is that correct? Please say yes or no.',
      'Please say yes if everything is right, or tell me what to change.',
    ], 'Press one for yes, or two for no.'),
    clarify: step('Did you want {describe}?', [
      'Sorry, did you want {describe}? Please say yes or no.',
      'Please say yes or no. Did you want {describe}?',
    ], 'Press one for yes, or two for no.'),
    fixWhich: step('What should I change: the day, the time, the name, or the phone number?', [
      'Sorry, which part is wrong? The day, the time, the name, or the phone number?',
      'You can also just say the right value, for example: four p.m.',
    ], 'Or press zero to talk to a person.'),
  })
  .strict();
export type StepName = keyof z.infer<typeof stepsSchema>;

export const messagesSchema = z
  .object({
    confirmLead: z.string().default('Let me read that back: {readBack}.'),
    booked: z.string().default('You are all set, {name}. Your appointment is on {date} at {time}.'),
    rescheduled: z.string().default('Done. Your appointment is now on {date} at {time}.'),
    cancelled: z.string().default('Your appointment on {date} at {time} has been cancelled.'),
    slotTaken: z.string().default('I am sorry, {time} on {date} is not available.'),
    offerTimes: z.string().default('The nearest free times are {times}. Which would you like?'),
    dayFull: z.string().default('I am sorry, there are no free times on {date}.'),
    closed: z.string().default('We are closed on {date}.'),
    pastDate: z.string().default('That time has already passed.'),
    noBookings: z.string().default('I could not find any upcoming appointments for the number {phone}.'),
    foundOne: z.string().default('I found your appointment on {date} at {time}.'),
    foundMany: z.string().default('I found {count} appointments: {list}.'),
    askNewDate: z.string().default('What day would you like to move it to?'),
    transferring: z.string().default('Please hold while I connect you to a member of our team.'),
    transferUnavailable: z
      .string()
      .default('I am sorry, nobody is available to take your call right now. You can reach our front desk at {businessPhone}. I am happy to keep helping you here.'),
    transferUnavailableNoPhone: z.string().default('I am sorry, nobody is available to take your call right now. I am happy to keep helping you here.'),
    startOver: z.string().default('Okay, let us start over.'),
    toolFailed: z.string().default('I am sorry, something went wrong on my side.'),
    /** The booking system (database) does not answer: apologise and offer a person (the global "person" intent). */
    storeUnavailable: z
      .string()
      .default('I am sorry, our booking system is not answering right now. To speak to a person, say person or press zero. Or I can keep helping you here.'),
    notHeardYet: z.string().default('Let me read that back in full first.'),
    keptAppointment: z.string().default('Okay, I will leave your appointment as it is.'),
    /** After "no" to a clarifying question, before the step's question again. */
    clarifyDeclined: z.string().default('Okay.'),
  })
  .strict();

export const DEFAULT_INTENTS: IntentConfig[] = [
  { id: 'book', action: 'book', dtmf: '1', global: false, examples: ['book an appointment', 'i would like to book an appointment', 'make an appointment'], keywords: ['book', 'new appointment', 'make an appointment', 'schedule an appointment'] },
  { id: 'reschedule', action: 'reschedule', dtmf: '2', global: false, examples: ['reschedule my appointment', 'change my appointment'], keywords: ['reschedule', 'move my appointment', 'change my appointment', 'different time'] },
  { id: 'cancel', action: 'cancel', dtmf: '3', global: false, examples: ['cancel my appointment'], keywords: ['cancel'] },
  { id: 'hours', action: 'answer', dtmf: '4', global: false, examples: ['what are your opening hours', 'when are you open'], keywords: ['hours', 'open', 'opening', 'close', 'closing'], answer: '{hours} {address}' },
  { id: 'address', action: 'answer', global: false, examples: ['where are you', 'what is your address'], keywords: ['address', 'where', 'location', 'directions'], answer: 'Our address is {address}' },
  { id: 'services', action: 'answer', global: false, examples: ['what services do you offer'], keywords: ['services', 'service', 'offer'], answer: 'We offer {services}.' },
  { id: 'person', action: 'transfer', dtmf: '0', global: true, examples: ['operator', 'talk to a person', 'speak to someone', 'agent', 'representative', 'a real person'], keywords: ['operator', 'person', 'human', 'receptionist', 'representative'] },
  { id: 'repeat', action: 'repeat', global: true, examples: ['repeat that', 'say that again', 'what', 'pardon', 'come again'], keywords: ['repeat', 'say that again'] },
  { id: 'goodbye', action: 'goodbye', global: true, examples: ['goodbye', 'bye', 'bye bye', 'that is all', 'hang up'], keywords: ['goodbye', 'bye'] },
  { id: 'start-over', action: 'start-over', global: true, examples: ['start over', 'start again', 'main menu'], keywords: ['start over', 'main menu'] },
];

/** How the offline flow understands callers who do not say what the step's grammar expects. */
export const understandingSchema = z
  .object({
    /** Also decode every utterance with an open-vocabulary model built from this config. */
    openVocabulary: z.boolean().default(true),
    /** Believe the open pass when it fits the audio better than the grammar by this much (per frame). */
    fitThreshold: z.number().min(0).default(2),
    /** Intent score at or above which the flow acts without asking (see understanding/intent-scorer.ts). */
    actScore: z.number().min(0).default(3),
    /** Intent score at or above which the flow asks "Did you want to …?" instead of reprompting. */
    clarifyScore: z.number().min(0).default(1.5),
  })
  .strict();

export const offlineDialogSchema = z
  .object({
    intents: z.array(intentSchema).min(1).default(DEFAULT_INTENTS),
    steps: stepsSchema.prefault({}),
    messages: messagesSchema.prefault({}),
    /** Said before a tool call that may take a moment; rotated deterministically. */
    fillers: z.array(z.string().min(1)).default(['One moment.', 'Let me check.']),
    /** Transcripts below this confidence count as a no-match. */
    minConfidence: z.number().min(0).max(1).default(0),
    /** Free times offered when the requested one is taken. */
    offerCount: z.number().int().min(1).max(5).default(2),
    understanding: understandingSchema.prefault({}),
  })
  .strict();
export type OfflineDialogConfig = z.infer<typeof offlineDialogSchema>;
