/**
 * The calls `npm run make-fixtures` records for the default agent (config/agent.yaml). Callers use
 * fictional 555-01xx numbers. The clock is pinned to Monday 2026-03-09, 14:00 in the clinic's zone,
 * so "tomorrow" is Tuesday 2026-03-10 in every recording and every replay.
 */
import type { SeedBooking } from '../src/recording/fixture-format.js';
import type { Expectations } from './expectations.js';
import type { LiveCaller } from './live-caller.js';

export const PINNED_CLOCK = Date.parse('2026-03-09T18:00:00Z'); // 14:00 EDT
export const CLINIC_NUMBER = '+15550100000';

export interface Scenario {
  name: string;
  description: string;
  from: string;
  seedBookings?: SeedBooking[];
  agentOverrides?: Record<string, unknown>;
  run(caller: LiveCaller): Promise<void>;
  /** Hand-written checks; the generator adds callerTexts, toolCalls, slots and endReason from the recording. */
  expect: Expectations;
  /** Tool arguments worth pinning in expect.json (others, such as booking ids, vary per run). */
  keyArgs?: string[];
}

const KEY_ARGS = ['date', 'time', 'name', 'newDate', 'newTime'];

export const scenarios: Scenario[] = [
  {
    name: 'book-by-voice',
    description: 'Books tomorrow at ten by voice; the phone number is the caller id, confirmed with a yes.',
    from: '+15550101001',
    async run(c) {
      await c.say('book an appointment');
      await c.say('tomorrow');
      await c.say('ten a m');
      await c.say('james');
      await c.say('yes');
      await c.say('yes');
      await c.say('goodbye');
      await c.untilEnded();
    },
    expect: { agentSays: ['what day', 'what time', 'name', 'is that right', 'all set'], bargeIns: 0 },
  },
  {
    name: 'reschedule',
    description: 'Moves an existing Wednesday appointment to Friday at two p.m.',
    from: '+15550101002',
    seedBookings: [{ name: 'riley', phone: '5550101002', date: '2026-03-11', time: '10:00' }],
    async run(c) {
      await c.say('reschedule my appointment');
      await c.say('yes');
      await c.say('friday');
      await c.say('two p m');
      await c.say('yes');
      await c.hangUp();
    },
    expect: { agentSays: ['moving your appointment'], bargeIns: 0 },
  },
  {
    name: 'cancel',
    description: 'Cancels the only upcoming appointment of the calling number.',
    from: '+15550101003',
    seedBookings: [{ name: 'morgan', phone: '5550101003', date: '2026-03-12', time: '11:30' }],
    async run(c) {
      await c.say('cancel my appointment');
      await c.say('yes');
      await c.say('yes');
      await c.say('goodbye');
      await c.untilEnded();
    },
    expect: { agentSays: ['cancel', 'cancelled'], bargeIns: 0 },
  },
  {
    name: 'faq-hours-address',
    description: 'Asks for the opening hours, then the address, then hangs up.',
    from: '+15550101004',
    async run(c) {
      await c.say('what are your opening hours');
      await c.say('what is your address');
      await c.hangUp();
    },
    expect: { agentSays: ['Monday to Thursday', 'Maple Street'], bargeIns: 0, toolCalls: [] },
  },
  {
    name: 'transfer-request',
    description: 'Asks for a person straight away.',
    from: '+15550101005',
    async run(c) {
      await c.say('talk to a person');
      if (!c.ended) await c.hangUp();
    },
    expect: { bargeIns: 0 },
  },
  {
    name: 'barge-in-reprompt',
    // The generator waits for the greeting to finish first, so the barge-in lands on the reprompt.
    description: 'Silent through the greeting, then talks over the inactivity reprompt 1.5 s in; the agent stops mid-sentence and answers.',
    from: '+15550101006',
    async run(c) {
      await c.bargeIn('book an appointment', 1500);
      await c.say('friday');
      await c.hangUp();
    },
    expect: { agentSays: ['what day', 'what time'], bargeIns: 1 },
  },
  {
    name: 'correct-confirmed-value',
    description: 'Says no to the read-back and corrects the time, then confirms.',
    from: '+15550101007',
    async run(c) {
      await c.say('book an appointment');
      await c.say('tuesday');
      await c.say('ten a m');
      await c.say('taylor');
      await c.say('yes');
      await c.say('no make it eleven a m');
      await c.say('yes');
      await c.hangUp();
    },
    expect: { agentSays: ['ten a.m.', 'eleven a.m.', 'all set'], bargeIns: 0 },
  },
  {
    name: 'dtmf-booking',
    description: 'Books with the keypad: menu key, time digits and a typed phone number.',
    from: '+15550101008',
    async run(c) {
      await c.press('1');
      await c.say('wednesday');
      await c.press('0230#');
      await c.say('david');
      await c.press('5550109876#');
      await c.press('1');
      await c.hangUp();
    },
    // The read-back of the typed number is redacted in the stored record.
    expect: { agentSays: ['what day', 'what time', 'with the phone number [phone]', 'all set'], bargeIns: 0 },
  },
  {
    name: 'silence-inactivity',
    description: 'Never says anything: reprompts, then the agent hangs up (inactivity shortened to 3 s).',
    from: '+15550101009',
    agentOverrides: { timeouts: { inactivityMs: 3000 } },
    async run(c) {
      await c.untilEnded(60_000);
    },
    expect: { callerTexts: [], toolCalls: [], bargeIns: 0 },
  },
  {
    name: 'noisy-line',
    description: 'Asks for the hours over a noisy line (white noise at -38 dBFS on every utterance).',
    from: '+15550101010',
    async run(c) {
      const noisy = { noiseDbfs: -38 };
      await c.say('what are your opening hours', noisy);
      await c.say('goodbye', noisy);
      await c.untilEnded();
    },
    expect: { agentSays: ['Monday to Thursday'], bargeIns: 0 },
  },
];

export function keyArgsOf(scenario: Scenario): string[] {
  return scenario.keyArgs ?? KEY_ARGS;
}
