import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../src/config/load-agent-config.js';
import type { StepName } from '../../../src/config/dialog-schema.js';
import { alt, buildJsgf } from '../../../src/dialog/grammar/jsgf.js';
import { stepHints, type Task } from '../../../src/dialog/grammar/step-grammars.js';
import { BUILT_IN_FIRST_NAMES } from '../../../src/dialog/slots/names.js';
import { PocketsphinxPool } from '../../../src/speech/pocketsphinx-pool.js';
import { checkSystemPackages } from '../../../src/speech/system-check.js';
import { jsgfMatcher, jsgfWords, loadCmuDictionary } from '../../../testkit/helpers/jsgf-matcher.js';

const config = loadAgentConfig('config/agent.yaml');
const ctx = { intents: config.offline.intents, names: [...BUILT_IN_FIRST_NAMES, ...config.slots.names], services: config.business.services };
const STEPS = Object.keys(config.offline.steps) as StepName[];
const TASKS: (Task | null)[] = [null, 'book', 'reschedule', 'cancel'];
const all = STEPS.flatMap((step) => TASKS.map((task) => ({ step, task, jsgf: stepHints({ step, task }, ctx).jsgf! })));

describe('step grammars', () => {
  it('have the pocketsphinx JSGF header and one public rule', () => {
    for (const { jsgf } of all) {
      expect(jsgf.startsWith('#JSGF V1.0;\n\ngrammar flow;\n\npublic <utterance> = ')).toBe(true);
      expect(jsgf.match(/public /g)).toHaveLength(1);
      expect(jsgf.replace('#JSGF V1.0;', '')).not.toMatch(/[0-9,'?!.:]/);
    }
  });

  it.skipIf(loadCmuDictionary() === null)('use only words in the pocketsphinx dictionary, for every step', () => {
    const dict = loadCmuDictionary()!;
    const missing = new Set(all.flatMap(({ jsgf }) => [...jsgfWords(jsgf)].filter((w) => !dict.has(w))));
    expect([...missing]).toEqual([]);
  });

  const accepts: [StepName, Task | null, string][] = [
    ['menu', null, 'i would like to book an appointment'],
    ['menu', null, 'i want to book a checkup tomorrow at three p m'],
    ['menu', null, 'talk to a person'],
    ['menu', null, 'operator'],
    ['menu', null, 'repeat that'],
    ['menu', null, 'start over'],
    ['date', 'book', 'the twenty fourth'],
    ['date', 'book', 'march third'],
    ['date', 'book', 'next tuesday at half past two'],
    ['time', 'book', 'ten o clock in the morning'],
    ['time', 'book', 'quarter to four'],
    ['time', 'book', 'noon'],
    ['time', 'book', 'the second one'],
    ['phone', 'book', 'five five five oh one two three'],
    ['phone', 'book', 'double five one two three four five'],
    ['phoneChoice', 'book', 'yes'],
    ['phoneChoice', 'book', 'no five five five one two three four'],
    ['name', 'book', 'my name is sarah'],
    ['confirm', 'book', 'no make it four p m'],
    ['confirm', 'book', 'yes that is right'],
    ['confirm', 'book', 'goodbye'],
    ['confirm', 'cancel', 'nope'],
    ['fixWhich', 'book', 'the phone number'],
    ['anythingElse', null, 'no thanks'],
    ['pickBooking', 'cancel', 'the first one'],
    // Carrier words around slot answers.
    ['date', 'book', 'um how about next friday please'],
    ['date', 'book', 'i think thursday would work'],
    ['time', 'book', 'uh let us say half past two if possible'],
    ['name', 'book', 'um it is sarah thanks'],
    ['phone', 'book', 'you can reach me at five five five one two three four five six seven'],
    ['phone', 'book', 'one eight double oh five five five one two one two'],
    ['confirm', 'book', 'no it should be tuesday'],
  ];
  it.each(accepts)('%s (%s) accepts "%s"', (step, task, phrase) => expect(jsgfMatcher(stepHints({ step, task }, ctx).jsgf!)(phrase)).toBe(true));

  it.each([
    ['confirm', 'cancel', 'make it four p m'],
    ['phone', 'book', 'book an appointment'],
    ['name', 'book', 'zorblax'],
    // Phone numbers are counted: five digits is no number, twelve is too many.
    ['phone', 'book', 'five five five one two'],
    ['phone', 'book', 'five five five one two three four five six seven eight nine'],
    // A correction at the read-back needs its "no" or lead: a bare name is not an answer there.
    ['confirm', 'book', 'karen'],
  ] as const)('%s (%s) rejects "%s"', (step, task, phrase) => expect(jsgfMatcher(stepHints({ step, task }, ctx).jsgf!)(phrase)).toBe(false));

  it('gives cloud engines keywords', () => {
    expect(stepHints({ step: 'date', task: 'book' }, ctx).keywords).toContain('tomorrow');
    expect(stepHints({ step: 'menu', task: null }, ctx).keywords).toContain('reschedule');
  });

  it('refuses words with digits or punctuation', () => {
    expect(() => alt(['book 2'])).toThrow(/not a plain lower-case word/);
    expect(() => buildJsgf('g', "that's", new Map())).toThrow(/not a plain lower-case word/);
    expect(() => buildJsgf('g', '<missing>', new Map())).toThrow(/not defined/);
  });
});

/**
 * Load every grammar into the production decoder (the long-lived pocketsphinx process the server
 * uses): a grammar pocketsphinx rejects comes back as a decode error.
 */
describe.skipIf(!checkSystemPackages().available.stt)('step grammars in the real decoder', () => {
  it('every step grammar loads and decodes', async () => {
    const pool = new PocketsphinxPool();
    try {
      const silence = Buffer.alloc(16000 * 2 * 0.3); // 300 ms of 16 kHz PCM16
      for (const { step, task, jsgf } of all.filter((g) => g.task !== null)) {
        const result = await pool.decode(silence, jsgf).then(
          () => 'ok',
          (error: Error) => error.message,
        );
        expect({ step, task, result }).toEqual({ step, task, result: 'ok' });
      }
    } finally {
      pool.close();
    }
  });
});
