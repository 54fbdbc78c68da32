/**
 * Offline recognition accuracy on our own fixtures: callers' phrases for each dialog step, spoken by
 * several flite voices, sent through the phone path (8 kHz μ-law), decoded by the production
 * decoder with the grammar the flow brain emits for that step. Prints WER and sentence accuracy per
 * voice and writes bench/results/stt-wer-<date>.json.
 *
 *   npm run bench:wer
 */
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { loadAgentConfig } from '../src/config/load-agent-config.js';
import type { StepName } from '../src/config/dialog-schema.js';
import { stepHints, type Task } from '../src/dialog/grammar/step-grammars.js';
import { BUILT_IN_FIRST_NAMES } from '../src/dialog/slots/names.js';
import { mulawToPcm16, pcm16ToLeBytes, upsample2xSinc } from '../src/speech/audio-convert.js';
import { PocketsphinxPool } from '../src/speech/pocketsphinx-pool.js';
import { callerMulaw } from '../testkit/helpers/caller-audio.js';
import { publish } from './harness.js';

const PHRASES: Array<[StepName, Task | null, string]> = [
  ['menu', null, 'i would like to book an appointment'],
  ['menu', null, 'cancel my appointment'],
  ['menu', null, 'reschedule my appointment'],
  ['menu', null, 'what are your opening hours'],
  ['menu', null, 'talk to a person'],
  ['menu', null, 'repeat that'],
  ['date', 'book', 'tuesday'],
  ['date', 'book', 'the twenty fourth'],
  ['date', 'book', 'march third'],
  ['date', 'book', 'tomorrow'],
  ['time', 'book', 'ten a m'],
  ['time', 'book', 'half past two'],
  ['time', 'book', 'quarter to four'],
  ['time', 'book', 'three thirty p m'],
  ['phone', 'book', 'five five five one two three four five six seven'],
  ['phone', 'book', 'double five one two three four five'],
  ['phoneChoice', 'book', 'yes'],
  ['name', 'book', 'james'],
  ['name', 'book', 'my name is emma'],
  ['confirm', 'book', 'yes that is right'],
  ['confirm', 'book', 'no make it four p m'],
  ['confirm', 'cancel', 'nope'],
  ['fixWhich', 'book', 'the phone number'],
  ['anythingElse', null, 'no thanks'],
  ['pickBooking', 'cancel', 'the first one'],
];
const VOICES = ['rms', 'slt', 'awb', 'kal'];

function wordErrors(reference: string, hypothesis: string): number {
  const r = reference.split(/\s+/).filter(Boolean);
  const h = hypothesis.split(/\s+/).filter(Boolean);
  const d = Array.from({ length: r.length + 1 }, (_, i) => [i, ...Array<number>(h.length).fill(0)]);
  for (let j = 1; j <= h.length; j++) d[0]![j] = j;
  for (let i = 1; i <= r.length; i++) {
    for (let j = 1; j <= h.length; j++) {
      const sub = d[i - 1]![j - 1]! + (r[i - 1] === h[j - 1] ? 0 : 1);
      d[i]![j] = Math.min(sub, d[i - 1]![j]! + 1, d[i]![j - 1]! + 1);
    }
  }
  return d[r.length]![h.length]!;
}

async function main(): Promise<void> {
  const config = loadAgentConfig('config/agent.yaml');
  const ctx = { intents: config.offline.intents, names: [...BUILT_IN_FIRST_NAMES, ...config.slots.names], services: config.business.services };
  // Compiled into node_modules/.cache, so point at the repo's decoder script explicitly.
  const pool = new PocketsphinxPool({ script: resolve('scripts/pocketsphinx-decoder.py') });
  const rows: Array<{ voice: string; words: number; errors: number; sentences: number; correct: number; misses: string[] }> = [];
  try {
    for (const voice of VOICES) {
      const row = { voice, words: 0, errors: 0, sentences: 0, correct: 0, misses: [] as string[] };
      for (const [step, task, phrase] of PHRASES) {
        const jsgf = stepHints({ step, task }, ctx).jsgf!;
        const pcm16k = upsample2xSinc(mulawToPcm16(callerMulaw(phrase, voice, 200)));
        const result = await pool.decode(pcm16ToLeBytes(pcm16k), jsgf);
        const errors = wordErrors(phrase, result.text);
        row.words += phrase.split(' ').length;
        row.errors += errors;
        row.sentences++;
        if (errors === 0) row.correct++;
        else row.misses.push(`${phrase} → ${result.text || '(nothing)'}`);
      }
      rows.push(row);
    }
  } finally {
    pool.close();
  }
  const date = new Date().toISOString();
  const machine = `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load ${loadavg()[0]!.toFixed(2)}`;
  const total = rows.reduce((a, r) => ({ words: a.words + r.words, errors: a.errors + r.errors, correct: a.correct + r.correct, n: a.n + r.sentences }), { words: 0, errors: 0, correct: 0, n: 0 });
  const pct = (errors: number, words: number) => `${((100 * errors) / words).toFixed(1)} %`;
  const markdown = [
    '## Offline recognition accuracy (`npm run bench:wer`)',
    '',
    `${date} · ${machine}.`,
    '',
    `${PHRASES.length} caller phrases, one per dialog step they belong to (menu, date, time, phone digits, names, yes/no, corrections), each`,
    `spoken by ${VOICES.length} flite voices, sent through the phone path (8 kHz μ-law), decoded by the production pocketsphinx decoder with`,
    'the grammar the flow brain emits for that step. Synthetic voices: a proxy for real callers, who will score worse.',
    '',
    '| caller voice | WER | sentences right |',
    '|---|---|---|',
    ...rows.map((r) => `| ${r.voice} | ${pct(r.errors, r.words)} | ${r.correct}/${r.sentences} |`),
    `| all | ${pct(total.errors, total.words)} | ${total.correct}/${total.n} |`,
    '',
    'Misses:',
    '',
    ...rows.flatMap((r) => r.misses.map((m) => `- ${r.voice}: ${m}`)),
  ].join('\n');
  console.log(markdown);
  publish('wer', { date, machine, phrases: PHRASES, rows }, markdown);
}

void main();
