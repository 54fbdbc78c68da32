/**
 * Measures the offline engines on this machine and writes bench/results/offline-engines.json.
 *
 * Run from the repository root (module resolution needs ./node_modules, the decoder script ./scripts):
 *   npx tsc -p tsconfig.json --outDir node_modules/.cache/offline-bench && node node_modules/.cache/offline-bench/bench/offline-engines.js
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { PocketsphinxPool } from '../src/speech/pocketsphinx-pool.js';
import { DEFAULT_JSGF } from '../src/speech/default-grammar.js';
import { mulawToPcm16, pcm16ToLeBytes, pcm16ToMulaw, upsample2xSinc } from '../src/speech/audio-convert.js';
import { FliteTts } from '../src/speech/flite-tts.js';
import { SileroVad } from '../src/media/vad/silero-vad.js';
import { EnergyVad } from '../src/media/vad/energy-vad.js';
import type { Vad } from '../src/media/vad/vad.js';
import { callerPcm } from '../testkit/helpers/caller-audio.js';

const SCRIPT = resolve('scripts/pocketsphinx-decoder.py');

const PHRASES = [
  'yes', 'no', 'book an appointment', 'cancel my appointment', 'speak to someone',
  'five five five one two three four', 'two zero one nine', 'thank you', 'repeat that', 'goodbye',
];
const VOICES = ['slt', 'rms', 'awb', 'kal'];

interface Stats { n: number; median: number; p95: number; mean: number; max: number }

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    n: sorted.length,
    median: round(at(0.5)),
    p95: round(at(0.95)),
    mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
    max: round(sorted[sorted.length - 1] ?? NaN),
  };
}

/** Phone path: μ-law round trip, then the ×2 upsampling the STT engine does. */
function utteranceBytes(pcm8k: Int16Array): Buffer {
  return pcm16ToLeBytes(upsample2xSinc(mulawToPcm16(pcm16ToMulaw(pcm8k))));
}

async function benchStt() {
  const utterances = VOICES.flatMap((voice) => PHRASES.map((text) => ({ text, voice, pcm: utteranceBytes(callerPcm(text, voice, 300)) })));
  const pool = new PocketsphinxPool({ size: 1, script: SCRIPT });
  const t0 = performance.now();
  await pool.decode(utterances[0]!.pcm, DEFAULT_JSGF); // model load + first grammar compile
  const coldMs = performance.now() - t0;
  const wall: number[] = [];
  const decoder: number[] = [];
  let correct = 0;
  const misses: string[] = [];
  for (let rep = 0; rep < 2; rep++) {
    for (const u of utterances) {
      const start = performance.now();
      const result = await pool.decode(u.pcm, DEFAULT_JSGF);
      wall.push(performance.now() - start);
      decoder.push(result.decodeMs);
      if (rep === 0 && result.text === u.text) correct++;
      else if (rep === 0) misses.push(`${u.voice}: "${u.text}" → "${result.text}"`);
    }
  }
  pool.close();

  // Baseline: a fresh decoder process per utterance (process start + model load + decode).
  const spawnWall: number[] = [];
  for (const u of utterances.slice(0, 12)) {
    const fresh = new PocketsphinxPool({ size: 1, script: SCRIPT });
    const start = performance.now();
    await fresh.decode(u.pcm, DEFAULT_JSGF);
    spawnWall.push(performance.now() - start);
    fresh.close();
  }
  return {
    utterances: utterances.length,
    sentenceAccuracy: `${correct}/${utterances.length}`,
    misses,
    longLivedColdFirstMs: Math.round(coldMs),
    longLivedWallMs: stats(wall),
    longLivedDecoderMs: stats(decoder),
    spawnPerUtteranceWallMs: stats(spawnWall),
  };
}

async function benchTts(voice: string) {
  const sentence = 'Thanks for calling. Your appointment is confirmed for Tuesday at three p m.';
  const tts = new FliteTts({ voice, lruSize: 0 });
  const firstAudio: number[] = [];
  let audioSeconds = 0;
  for (let i = 0; i <= 10; i++) {
    const text = `${sentence}${' '.repeat(i)}`; // lruSize 0 already disables caching; vary anyway
    async function* one() {
      yield text;
    }
    const start = performance.now();
    let first = true;
    let bytes = 0;
    for await (const chunk of tts.stream({ text: one(), signal: new AbortController().signal })) {
      if (first) {
        if (i > 0) firstAudio.push(performance.now() - start); // i = 0 is the cold call
        first = false;
      }
      bytes += chunk.audio.length;
    }
    audioSeconds = bytes / 8000;
  }
  const warmTts = new FliteTts({ voice });
  await warmTts.warm([sentence]);
  const cached: number[] = [];
  for (let i = 0; i < 10; i++) {
    async function* one() {
      yield sentence;
    }
    const start = performance.now();
    for await (const _ of warmTts.stream({ text: one(), signal: new AbortController().signal })) {
      cached.push(performance.now() - start);
      break;
    }
  }
  return { voice, sentence, audioSeconds, firstAudioMs: stats(firstAudio), warmedFirstAudioMs: stats(cached) };
}

async function benchVad(vad: Vad) {
  // 10 s: 3 s silence, ~4 s of speech, low noise.
  const speech = callerPcm('I would like to book an appointment for next Tuesday at three please', 'slt', 0);
  const audio = new Int16Array(80000);
  audio.set(speech.subarray(0, Math.min(speech.length, 40000)), 24000);
  const phone = mulawToPcm16(pcm16ToMulaw(audio));
  const stream = vad.createStream();
  await stream.process(new Int16Array(256)); // load / warm up
  const perWindow: number[] = [];
  let windows = 0;
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  for (let rep = 0; rep < 3; rep++) {
    for (let i = 0; i < phone.length; i += 160) {
      const start = performance.now();
      const out = await stream.process(phone.subarray(i, i + 160));
      const ms = performance.now() - start;
      if (out.length > 0) perWindow.push(ms / out.length);
      windows += out.length;
    }
  }
  const cpu = process.cpuUsage(cpuStart);
  const wallMs = performance.now() - wallStart;
  stream.close();
  const audioMs = (3 * phone.length) / 8;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    vad: vad.name,
    windows,
    msPerWindow: stats(perWindow),
    // CPU of this process per second of audio = share of one core one call's stream needs.
    cpuPercentPerStream: Math.round((cpuMs / audioMs) * 100 * 1000) / 1000,
    wallMsPer10sAudio: Math.round((wallMs / 3) * 10) / 10,
  };
}

async function main() {
  const machine = {
    date: execSync('date').toString().trim(),
    nproc: Number(execSync('nproc').toString().trim()),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
  };
  const stt = await benchStt();
  const tts = [await benchTts('kal'), await benchTts('rms')];
  const vad = [await benchVad(await SileroVad.create()), await benchVad(new EnergyVad())];
  const results = { machine, stt, tts, vad };

  const row = (name: string, s: Stats, extra = '') =>
    `${name.padEnd(46)} ${String(s.median).padStart(9)} ${String(s.p95).padStart(9)} ${String(s.max).padStart(9)} ${String(s.n).padStart(4)}  ${extra}`;
  console.log(`machine: ${machine.date}, nproc ${machine.nproc}, ${machine.cpu}, node ${machine.node}`);
  console.log(`${'measure'.padEnd(46)} ${'median'.padStart(9)} ${'p95'.padStart(9)} ${'max'.padStart(9)} ${'n'.padStart(4)}`);
  console.log(row('STT long-lived pool, wall ms/utterance', stt.longLivedWallMs, `accuracy ${stt.sentenceAccuracy}, cold first ${stt.longLivedColdFirstMs} ms`));
  console.log(row('STT long-lived pool, decoder-reported ms', stt.longLivedDecoderMs));
  console.log(row('STT spawn per utterance, wall ms', stt.spawnPerUtteranceWallMs));
  for (const t of tts) {
    console.log(row(`TTS flite:${t.voice} first audio ms (${t.audioSeconds.toFixed(1)} s)`, t.firstAudioMs));
    console.log(row(`TTS flite:${t.voice} warmed prompt first audio ms`, t.warmedFirstAudioMs));
  }
  for (const miss of stt.misses) console.log(`  STT miss (default grammar) ${miss}`);
  for (const v of vad) console.log(row(`VAD ${v.vad} ms per window`, v.msPerWindow, `CPU ${v.cpuPercentPerStream} % of a core per stream`));

  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/offline-engines.json', JSON.stringify(results, null, 2) + '\n');
  console.log('wrote bench/results/offline-engines.json');
}

await main();
