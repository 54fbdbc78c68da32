/**
 * Silero VAD CPU cost under concurrency: N simulated streams, each fed 20 ms frames of 8 kHz PCM16
 * (speech and silence). Reports CPU ms per audio second per stream from process.cpuUsage().
 *
 *   node .../bench/vad-cpu.js [--module path/to/silero-vad.js] [--max-batch K] [--mode realtime|fast]
 *     [--streams 1,50,200] [--seconds 5] [--quiet-gate-dbfs -55|null] [--noise-dbfs -60] [--batch-wait-ms 10]
 *   --module null measures the harness alone (timers, audio slicing); --module points at another build
 *   of silero-vad.js (e.g. the unbatched one) for before/after.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { Vad, VadStream } from '../src/media/vad/vad.js';
import { callerPcm, whiteNoise } from '../testkit/helpers/caller-audio.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const modulePath = arg('module', '');
const maxBatch = arg('max-batch', '');
const mode = arg('mode', 'realtime');
const counts = arg('streams', '1,50,200').split(',').map(Number);
const seconds = Number(arg('seconds', '5'));
const quietGate = arg('quiet-gate-dbfs', '');
/** White noise under the whole loop (a phone line's floor; bench:load's callers use -60); default none. */
const noiseDbfs = arg('noise-dbfs', '');
const batchWait = arg('batch-wait-ms', '');
const FRAME = 160;

async function makeVad(): Promise<Vad> {
  // `--module null`: a VAD that does nothing, to measure the harness's own cost.
  if (modulePath === 'null') return { name: 'null', createStream: () => ({ process: async () => [], close() {} }) };
  const mod = (await import(
    modulePath ? pathToFileURL(resolve(modulePath)).href : '../src/media/vad/silero-vad.js'
  )) as typeof import('../src/media/vad/silero-vad.js');
  const vad = new mod.SileroVad({
    ...(maxBatch ? { maxBatch: Number(maxBatch) } : {}),
    ...(batchWait ? { batchWaitMs: Number(batchWait) } : {}),
    ...(quietGate ? { quietGateDbfs: quietGate === 'null' ? null : Number(quietGate) } : {}),
  });
  await vad.load();
  return vad;
}

// Caller audio: speech with silence gaps, looped; each stream starts at a different offset.
const speech = callerPcm('I would like to book an appointment for next Tuesday please thank you', 'rms', 800);
const audio = new Int16Array(speech.length + 8000);
audio.set(speech);
if (noiseDbfs) {
  const noise = whiteNoise(audio.length, Number(noiseDbfs), 7);
  for (let i = 0; i < audio.length; i++) audio[i] = Math.max(-32768, Math.min(32767, audio[i]! + noise[i]!));
}
const frameAt = (stream: number, n: number) => {
  const start = ((stream * 1777 + n) * FRAME) % (audio.length - FRAME);
  return audio.subarray(start, start + FRAME);
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? 0;

async function runStream(stream: VadStream, index: number, frames: number, t0: number, offset: number, lat: number[]) {
  let windows = 0;
  for (let n = 0; n < frames; n++) {
    if (mode === 'realtime') {
      const due = t0 + offset + n * 20;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
    const start = performance.now();
    const out = await stream.process(frameAt(index, n));
    if (out.length > 0) lat.push(performance.now() - start);
    windows += out.length;
  }
  stream.close();
  return windows;
}

const vad = await makeVad();
/** Model runs and windows, when the VAD is the batched Silero. */
const batcherStats = 'load' in vad ? (await (vad as { load(): Promise<{ batcher: { stats: { runs: number; windows: number } } }> }).load()).batcher.stats : null;
// Warm up.
await Promise.all(Array.from({ length: 4 }, (_, i) => runStreamFast(vad.createStream(), i)));
async function runStreamFast(s: VadStream, i: number) {
  for (let n = 0; n < 50; n++) await s.process(frameAt(i, n));
}

for (const n of counts) {
  const frames = Math.round((seconds * 1000) / 20);
  const lat: number[] = [];
  const runs0 = batcherStats?.runs ?? 0;
  const windows0 = batcherStats?.windows ?? 0;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const windows = await Promise.all(
    Array.from({ length: n }, (_, i) => runStream(vad.createStream(), i, frames, wall0, Math.random() * 20, lat)),
  );
  const wall = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const audioSecPerStream = (frames * 20) / 1000;
  const total = windows.reduce((a, b) => a + b, 0);
  console.log(
    JSON.stringify({
      impl: modulePath ? modulePath === 'null' ? 'null' : 'legacy' : `batched(maxBatch=${maxBatch || 'default'}, quietGate=${quietGate || 'default'}, batchWaitMs=${batchWait || 'default'})`,
      mode,
      streams: n,
      windows: total,
      wallMs: Math.round(wall),
      cpuMs: Math.round(cpuMs),
      cpuMsPerAudioSecPerStream: +(cpuMs / (audioSecPerStream * n)).toFixed(3),
      cpuCoresUsed: +(cpuMs / wall).toFixed(2),
      realtimeFactor: +((audioSecPerStream * 1000) / wall).toFixed(2),
      ...('stats' in vad ? { vadStats: (vad as { stats: unknown }).stats } : {}),
      ...(batcherStats ? { modelRuns: batcherStats.runs - runs0, modelWindows: batcherStats.windows - windows0 } : {}),
      windowLatencyMs: { p50: +pct(lat, 0.5).toFixed(2), p99: +pct(lat, 0.99).toFixed(2) },
    }),
  );
}
