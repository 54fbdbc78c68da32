/**
 * Built-in intent cues: how callers ask for each action in everyday words, beyond the config's
 * examples and keywords. Weights: 3 = says it outright ("cancel"), 2 = a strong hint ("move",
 * "where"), 1 = a weak hint that needs company. Phrases are normalized words (see slots/normalize.ts:
 * "don't" arrives as "do not"). Used by the intent scorer and as text for the open-vocabulary
 * language model, so what the scorer listens for is also what the recogniser expects to hear.
 */
import type { IntentAction } from '../../config/dialog-schema.js';

export type Cue = readonly [phrase: string, weight: number];

/** Keyed by intent action; `answer` intents are told apart by their id (hours, address, services). */
export const BUILT_IN_CUES: Readonly<Record<string, readonly Cue[]>> = {
  book: [
    ['book', 3], ['make an appointment', 3], ['schedule', 2], ['set up', 2], ['fit me in', 3], ['get in', 1.5],
    ['come in', 1.5], ['see the doctor', 2], ['see a doctor', 2], ['new patient', 2], ['available', 1.5],
    ['availability', 1.5], ['an appointment', 1], ['new appointment', 3], ['appointment for', 1], ['a visit', 1],
    ['need an appointment', 3], ['get an appointment', 3], ['booking for', 2], ['make a booking', 3],
  ],
  reschedule: [
    ['reschedule', 3], ['move', 2], ['moved', 2], ['change', 1.5], ['push', 1.5], ['push back', 2.5], ['different time', 2.5],
    ['different day', 2.5], ['another day', 2.5], ['another time', 2.5], ['later', 1], ['earlier', 1], ['does not work', 1.5],
    ['change the time', 3], ['change my appointment', 3], ['instead', 0.5],
  ],
  cancel: [
    ['cancel', 3], ['cancelled', 3], ['call off', 3], ['not be able to make', 2.5], ['can not make', 2.5],
    ['will not make', 2.5], ['not make it', 2], ['drop', 2], ['not need it', 1.5], ['not coming', 2], ['delete', 2],
  ],
  hours: [
    ['hours', 3], ['open', 2], ['opening', 2.5], ['close', 2], ['closing', 2.5], ['how late', 2.5], ['how early', 2.5],
    ['what time do you', 2], ['when are you', 1.5], ['when do you', 1.5], ['weekend', 1], ['saturday', 0.5],
    ['sunday', 0.5], ['saturdays', 0.5], ['sundays', 0.5],
  ],
  address: [
    ['address', 3], ['where', 2], ['located', 2.5], ['location', 2.5], ['directions', 3], ['get to you', 2.5],
    ['find you', 2.5], ['get there', 2], ['street', 1.5], ['parking', 1.5], ['how do i get', 2], ['which street', 2.5],
  ],
  services: [
    ['services', 3], ['service', 2], ['offer', 2], ['provide', 2], ['do you do', 2], ['treatments', 2.5], ['treatment', 2],
    ['treat', 1.5], ['kind of', 1], ['vaccine', 1.5], ['vaccines', 1.5], ['shot', 1.5], ['shots', 1.5], ['do you have', 0.5],
  ],
  transfer: [
    ['person', 3], ['human', 3], ['someone', 2], ['somebody', 2], ['receptionist', 3], ['operator', 3],
    ['representative', 3], ['agent', 2], ['staff', 2], ['front desk', 2.5], ['put me through', 2.5], ['transfer', 2.5],
    ['speak to', 1.5], ['speak with', 1.5], ['talk to', 1.5], ['real person', 3], ['doctor directly', 2],
  ],
  repeat: [
    ['repeat', 3], ['say that again', 3], ['say it again', 3], ['one more time', 2.5], ['did not hear', 2.5],
    ['did not catch', 2.5], ['what was that', 2.5], ['pardon', 2.5], ['come again', 2.5], ['again', 1],
  ],
  'start-over': [
    ['start over', 3], ['start again', 3], ['from the beginning', 3], ['beginning', 2], ['main menu', 3], ['menu', 2],
    ['go back', 2], ['start from', 2], ['restart', 3], ['begin again', 3],
  ],
  goodbye: [
    ['bye', 3], ['goodbye', 3], ['bye bye', 3], ['that is all', 2.5], ['that is everything', 2.5], ['that is it', 2],
    ['nothing else', 2.5], ['have to go', 2], ['hang up', 2.5], ['all for today', 1.5], ['all done', 2],
  ],
};

/** Default answer-intent cue sets by intent id (the `answer` action covers several intents). */
export const ANSWER_CUE_KEYS = ['hours', 'address', 'services'] as const;

/** The cue table for an intent: by id for answer intents we know, else by action. */
export function builtInCues(intent: { id: string; action: IntentAction }): readonly Cue[] {
  if (intent.action === 'answer') return BUILT_IN_CUES[intent.id] ?? [];
  return BUILT_IN_CUES[intent.action] ?? [];
}
