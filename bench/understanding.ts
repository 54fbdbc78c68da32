/**
 * Offline understanding on callers the grammar did not expect: the test set in
 * bench/understanding/test-set.ts, said by five voices from two engines (flite rms/slt/awb,
 * espeak-ng en-us/en-gb; never the agent's flite kal), through a phone line (300–3400 Hz, 8 kHz,
 * line noise, μ-law), decoded by the production recogniser (grammar + open-vocabulary passes), then
 * one real flow-brain turn in the step the item answers. Every third item is held out (never tuned
 * on) and reported on its own.
 *
 *   npm run bench:understanding            (flags: --voices flite-rms,espeak-us  --split tune|heldout|all
 *                                           --results sweep.json: write only that file, not BENCHMARKS.md)
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAgentConfig } from '../src/config/load-agent-config.js';
import { stepHints } from '../src/dialog/grammar/step-grammars.js';
import { BUILT_IN_FIRST_NAMES } from '../src/dialog/slots/names.js';
import { normalizeUtterance } from '../src/dialog/slots/normalize.js';
import { writeDomainLm } from '../src/dialog/understanding/domain-lm.js';
import { PocketsphinxPool } from '../src/speech/pocketsphinx-pool.js';
import { PocketsphinxStt } from '../src/speech/pocketsphinx-stt.js';
import { PHONE_VOICES, phoneLineMulaw } from '../testkit/helpers/phone-voices.js';
import { args, machine, machineLine, publish, stats, table } from './harness.js';
import { judge, type Outcome } from './understanding/judge.js';
import { isHeldOut, TEST_SET } from './understanding/test-set.js';

const a = args();
const voices = PHONE_VOICES.filter((v) => a.str('voices', '') === '' || a.str('voices', '').split(',').includes(v.id));
if (voices.length === 0) throw new Error('no such voices');
const split = a.str('split', 'all');
const config = loadAgentConfig('config/agent.yaml');
const grammar = {
  intents: config.offline.intents,
  names: [...new Set([...(config.slots.useBuiltInNames ? BUILT_IN_FIRST_NAMES : []), ...config.slots.names])],
  services: config.business.services,
};
const cacheDir = join('node_modules', '.cache', 'understanding-audio');
mkdirSync(cacheDir, { recursive: true });

function audio(text: string, voiceIndex: number): Uint8Array {
  const voice = voices[voiceIndex]!;
  const key = createHash('sha1').update(`${voice.id}|${text}|v1`).digest('hex').slice(0, 16);
  const file = join(cacheDir, `${key}.ul`);
  if (existsSync(file)) return new Uint8Array(readFileSync(file));
  const mulaw = phoneLineMulaw(text, voice, { seed: text.length * 31 + voiceIndex });
  writeFileSync(file, mulaw);
  return mulaw;
}

function wordErrors(reference: string, hypothesis: string): number {
  const r = reference.split(' ').filter(Boolean);
  const h = hypothesis.split(' ').filter(Boolean);
  let prev = Array.from({ length: h.length + 1 }, (_, j) => j);
  for (let i = 1; i <= r.length; i++) {
    const cur = [i];
    for (let j = 1; j <= h.length; j++) cur[j] = Math.min(prev[j - 1]! + (r[i - 1] === h[j - 1] ? 0 : 1), prev[j]! + 1, cur[j - 1]! + 1);
    prev = cur;
  }
  return prev[h.length]!;
}

const m0 = machine();
const lm = writeDomainLm(config);
// A generous timeout: the bench machine is shared and a slow decode must not end the run.
const pool = new PocketsphinxPool({ size: 2, preloadLm: lm, decodeTimeoutMs: 60_000 });
const stt = new PocketsphinxStt({ pool, openLm: lm, fitThreshold: config.offline.understanding.fitThreshold });
pool.start();

interface Row { index: number; heldOut: boolean; voice: string; say: string; expect: string; heard: string; grammarText: string; openText: string; chosen: string; fit: number; outcome: Outcome; wallMs: number; cpuGrammar: number; cpuOpen: number; refWords: number; openErrors: number; grammarErrors: number }
const rows: Row[] = [];
const failures: string[] = [];
/**
 * `--rejudge results.json`: reuse the recognition of an earlier run (decoding is deterministic) and
 * only re-run the flow's decisions, e.g. after changing the act/ask rules. Timing columns then
 * repeat the earlier run's decoder CPU and show no wall time.
 */
const previous = a.str('rejudge', '') === '' ? null : new Map(
  (JSON.parse(readFileSync(a.str('rejudge', ''), 'utf8')) as { rows: Row[] }).rows.map((r) => [
    `${r.index}|${r.voice}`,
    {
      text: r.heard,
      confidence: r.heard ? 1 : 0,
      recognition: {
        grammar: { text: r.grammarText, confidence: r.grammarText ? 1 : 0, acousticScore: 0, decodeMs: 0, cpuMs: r.cpuGrammar },
        open: { text: r.openText, confidence: r.openText ? 1 : 0, acousticScore: 0, decodeMs: 0, cpuMs: r.cpuOpen },
        chosen: r.chosen as 'grammar' | 'open',
        fit: r.fit,
      },
    },
  ]),
);
const items = TEST_SET.map((item, index) => ({ item, index })).filter(({ index }) => split === 'all' || (split === 'heldout') === isHeldOut(index));
console.log(`${items.length} items × ${voices.length} voices`);
for (const { item, index } of items) {
  for (let v = 0; v < voices.length; v++) {
    const jsgf = stepHints({ step: item.step, task: item.task ?? null }, grammar).jsgf!;
    const started = performance.now();
    let heard: Awaited<ReturnType<typeof stt.recognize>>;
    try {
      const again = previous?.get(`${index}|${voices[v]!.id}`);
      heard = again ?? (await stt.recognize(audio(item.say, v), jsgf));
    } catch (error) {
      // Counted as heard nothing (the flow reprompts), and reported.
      failures.push(`${voices[v]!.id} "${item.say}": ${(error as Error).message}`);
      heard = { text: '', confidence: 0, recognition: { chosen: 'grammar', fit: 0 } };
    }
    const wallMs = performance.now() - started;
    const outcome = await judge(config, item, heard);
    const ref = normalizeUtterance(item.say);
    const rec = heard.recognition;
    rows.push({
      index, heldOut: isHeldOut(index), voice: voices[v]!.id, say: item.say, expect: 'intent' in item.expect ? item.expect.intent : `${item.expect.slot}=${item.expect.value}`,
      heard: heard.text, grammarText: rec.grammar?.text ?? '', openText: rec.open?.text ?? '', chosen: rec.chosen, fit: rec.fit, outcome, wallMs,
      cpuGrammar: rec.grammar?.cpuMs ?? 0, cpuOpen: rec.open?.cpuMs ?? 0,
      refWords: ref.split(' ').length, openErrors: wordErrors(ref, normalizeUtterance(rec.open?.text ?? '')), grammarErrors: wordErrors(ref, normalizeUtterance(rec.grammar?.text ?? '')),
    });
    if (a.flag('verbose') || (!outcome.correct && !isHeldOut(index))) {
      console.log(`${outcome.correct ? 'ok ' : 'BAD'} [${voices[v]!.id}] ${item.step}: "${item.say}" → G "${rec.grammar?.text}" O "${rec.open?.text}" (${rec.chosen}, fit ${rec.fit}) → ${outcome.kind} ${outcome.detail}`);
    }
  }
}
pool.close();
const m1 = machine();

function summary(subset: Row[]) {
  const intents = subset.filter((r) => !r.expect.includes('='));
  const slots = subset.filter((r) => r.expect.includes('='));
  const pct = (n: number, d: number) => (d === 0 ? '–' : `${((100 * n) / d).toFixed(1)} %`);
  const count = (rs: Row[], f: (r: Row) => boolean) => rs.filter(f).length;
  const refWords = subset.reduce((n, r) => n + r.refWords, 0);
  return {
    n: subset.length,
    intentN: intents.length,
    intentAccuracy: pct(count(intents, (r) => r.outcome.correct), intents.length),
    actedRight: pct(count(intents, (r) => r.outcome.kind === 'acted' && r.outcome.correct), intents.length),
    slotN: slots.length,
    slotAccuracy: pct(count(slots, (r) => r.outcome.correct), slots.length),
    wrongAction: pct(count(subset, (r) => r.outcome.kind === 'acted' && !r.outcome.correct), subset.length),
    wrongActions: count(subset, (r) => r.outcome.kind === 'acted' && !r.outcome.correct),
    wrongIrreversible: count(subset, (r) => r.outcome.irreversibleWrong),
    clarification: pct(count(subset, (r) => r.outcome.kind === 'clarified'), subset.length),
    reprompt: pct(count(subset, (r) => r.outcome.kind === 'reprompted'), subset.length),
    openWer: pct(subset.reduce((n, r) => n + r.openErrors, 0), refWords),
    grammarWer: pct(subset.reduce((n, r) => n + r.grammarErrors, 0), refWords),
    openChosen: pct(count(subset, (r) => r.chosen === 'open'), subset.length),
  };
}

const parts = { tuning: rows.filter((r) => !r.heldOut), 'held-out': rows.filter((r) => r.heldOut), all: rows };
const sums = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, summary(v)]));
const overall = table(
  ['part', 'utterances', 'intent accuracy (acted or asked right)', 'acted right', 'slot accuracy', 'wrong actions', 'wrong irreversible', 'clarifications', 'reprompts', 'open-vocab WER', 'grammar-pass WER', 'open pass believed'],
  Object.entries(sums).map(([k, s]) => [k, s.n, `${s.intentAccuracy} (n ${s.intentN})`, s.actedRight, `${s.slotAccuracy} (n ${s.slotN})`, `${s.wrongActions} (${s.wrongAction})`, s.wrongIrreversible, s.clarification, s.reprompt, s.openWer, s.grammarWer, s.openChosen]),
);
const labels = [...new Set(rows.map((r) => (r.expect.includes('=') ? r.expect.split('=')[0]! : r.expect)))];
const perLabel = table(
  ['intent / slot', 'held-out: n', 'held-out: right', 'held-out: acted wrong', 'held-out: asked', 'tuning: n', 'tuning: right', 'tuning: acted wrong'],
  labels.map((label) => {
    const of = (rs: Row[]) => rs.filter((r) => (r.expect.includes('=') ? r.expect.split('=')[0] : r.expect) === label);
    const h = of(parts['held-out']);
    const t = of(parts.tuning);
    const right = (rs: Row[]) => `${rs.filter((r) => r.outcome.correct).length}`;
    return [label, h.length, right(h), h.filter((r) => r.outcome.kind === 'acted' && !r.outcome.correct).length, h.filter((r) => r.outcome.kind === 'clarified').length, t.length, right(t), t.filter((r) => r.outcome.kind === 'acted' && !r.outcome.correct).length];
  }),
);
const perVoice = table(
  ['voice', 'utterances', 'intent accuracy', 'slot accuracy', 'open-vocab WER'],
  voices.map((v) => {
    const s = summary(rows.filter((r) => r.voice === v.id));
    return [v.id, s.n, s.intentAccuracy, s.slotAccuracy, s.openWer];
  }),
);
const wall = stats(rows.map((r) => Math.round(r.wallMs)));
const cpuG = stats(rows.map((r) => r.cpuGrammar));
const cpuO = stats(rows.map((r) => r.cpuOpen));
const md = `## Understanding callers (\`npm run bench:understanding\`)

${machineLine(m0, m1)}. Machine shared with other helpers' work (see load average): CPU and time figures are upper bounds.

Test set: ${TEST_SET.length} phrasings written for this benchmark (not the config's examples), ${voices.length} voices
(${voices.map((v) => v.id).join(', ')}; two engines, none the agent's flite \`kal\`), telephone band 300–3400 Hz, 8 kHz, white line
noise at −50 dBFS, G.711 μ-law. Each utterance is decoded by the production recogniser (step grammar + open-vocabulary
trigram, in parallel on a 2-process pool) and answered by one real flow-brain turn in the step it answers.
Every third phrasing is **held out**: never tuned on.

${overall}

"Intent accuracy" counts a turn right when the flow acted on the caller's intent or asked about exactly it ("Did you want to …?");
"acted right" counts only the first. A wrong action is acting on anything else; wrong irreversible = a transfer, hang-up or
booking/cancellation the caller did not ask for.

Per intent and slot:

${perLabel}

Per voice (all parts):

${perVoice}

Recognition cost per utterance: wall time for both passes p50 ${wall.p50} ms, p95 ${wall.p95} ms; decoder CPU per pass —
grammar p50 ${cpuG.p50} ms (p95 ${cpuG.p95}), open vocabulary p50 ${cpuO.p50} ms (p95 ${cpuO.p95}).
TTFA and concurrency with both passes on: see \`bench:offline\`.${failures.length ? `\n\nDecoder failures (counted as heard nothing): ${failures.length}.` : ''}`;
console.log('\n' + md);
// `--results file.json`: a sweep run; keep BENCHMARKS.md and bench/results/ as they are.
const resultsFile = a.str('results', '');
if (resultsFile) writeFileSync(resultsFile, JSON.stringify({ machine: m0, machineEnd: m1, summaries: sums, rows }, null, 2) + '\n');
else publish('understanding', { machine: m0, machineEnd: m1, summaries: sums, rows }, md);
process.exit(0);
