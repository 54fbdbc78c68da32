import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../src/config/load-agent-config.js';
import type { StepName } from '../../../src/config/dialog-schema.js';
import { alt, buildJsgf } from '../../../src/dialog/grammar/jsgf.js';
import { stepHints, type Task } from '../../../src/dialog/grammar/step-grammars.js';
import { BUILT_IN_FIRST_NAMES } from '../../../src/dialog/slots/names.js';
import { jsgfMatcher, jsgfWords, loadCmuDictionary } from '../../helpers/jsgf-matcher.js';

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
  ];
  it.each(accepts)('%s (%s) accepts "%s"', (step, task, phrase) => expect(jsgfMatcher(stepHints({ step, task }, ctx).jsgf!)(phrase)).toBe(true));

  it.each([
    ['confirm', 'cancel', 'make it four p m'],
    ['phone', 'book', 'book an appointment'],
    ['name', 'book', 'zorblax'],
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

const POCKETSPHINX = '/usr/bin/pocketsphinx_continuous';

/** One second of 16 kHz silence as a WAV file. */
function silentWav(path: string): void {
  const samples = 16000;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + samples * 2, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(16000, 24);
  header.writeUInt32LE(32000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(samples * 2, 40);
  writeFileSync(path, Buffer.concat([header, Buffer.alloc(samples * 2)]));
}

describe.skipIf(!existsSync(POCKETSPHINX) || loadCmuDictionary() === null)('step grammars in real pocketsphinx', () => {
  it('every step grammar loads without errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jsgf-'));
    const wav = join(dir, 'silence.wav');
    silentWav(wav);
    for (const { step, task, jsgf } of all.filter((g) => g.task !== null)) {
      const gram = join(dir, `${step}-${task}.gram`);
      writeFileSync(gram, jsgf);
      const run = spawnSync(POCKETSPHINX, ['-jsgf', gram, '-infile', wav], { encoding: 'utf8', timeout: 60_000 });
      const errors = `${run.stderr}${run.stdout}`.split('\n').filter((line) => /^(ERROR|FATAL)/.test(line));
      expect({ step, task, errors, status: run.status }).toEqual({ step, task, errors: [], status: 0 });
    }
  });
});
