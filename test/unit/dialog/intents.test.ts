import { describe, expect, it } from 'vitest';
import { DEFAULT_INTENTS } from '../../../src/config/dialog-schema.js';
import { intentForKey, matchIntent } from '../../../src/dialog/intents.js';

describe('intent matching', () => {
  it.each([
    ['book an appointment', 'book'],
    ['I would like to book a checkup', 'book'],
    ['I need to reschedule my appointment', 'reschedule'],
    ['can I change my appointment', 'reschedule'],
    ['cancel my appointment please', 'cancel'],
    ['what are your opening hours', 'hours'],
    ['when do you close on friday', 'hours'],
    ["what's your address", 'address'],
    ['what services do you offer', 'services'],
    ['talk to a person', 'person'],
    ['operator', 'person'],
    ['repeat that', 'repeat'],
    ['what', 'repeat'],
    ['goodbye', 'goodbye'],
    ['start over', 'start-over'],
    ['banana', null],
  ])('%s → %s', (text, id) => expect(matchIntent(text, DEFAULT_INTENTS)?.id ?? null).toBe(id));

  it('matches only global intents in slot steps', () => {
    expect(matchIntent('cancel my appointment', DEFAULT_INTENTS, { globalOnly: true })).toBeNull();
    expect(matchIntent('i want to talk to a person', DEFAULT_INTENTS, { globalOnly: true })?.id).toBe('person');
  });

  it.each([['1', 'book'], ['2#', 'reschedule'], ['3', 'cancel'], ['4', 'hours'], ['0', 'person'], ['9', null]])('key %s → %s', (key, id) =>
    expect(intentForKey(key, DEFAULT_INTENTS)?.id ?? null).toBe(id));

  it('is deterministic', () => {
    const a = DEFAULT_INTENTS.map((i) => matchIntent(i.examples[0] ?? '', DEFAULT_INTENTS)?.id);
    const b = DEFAULT_INTENTS.map((i) => matchIntent(i.examples[0] ?? '', DEFAULT_INTENTS)?.id);
    expect(a).toEqual(b);
  });
});
