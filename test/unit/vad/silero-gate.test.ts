/**
 * The Silero quiet gate (silero-vad.ts): windows far below speech level while the model says silence
 * skip the model. It must not make the turn-taking events come later on real speech, and must leave
 * anything louder than the gate exactly as the model hears it.
 */
import { describe, expect, it } from 'vitest';
import { SileroVad } from '../../../src/media/vad/silero-vad.js';
import { initialSegmenterState, segment, type SegmenterConfig } from '../../../src/media/vad/speech-segmenter.js';
import { callerPcm, whiteNoise } from '../../../testkit/helpers/caller-audio.js';

const CONFIG: SegmenterConfig = { threshold: 0.5, hysteresis: 0.15, onsetMs: 64, minBargeInMs: 200, endSilenceMs: 600 };
const WINDOW_MS = 32;

/** Speech-start / speech-end times (audio ms) and every window's probability, fed in 20 ms frames. */
async function run(vad: SileroVad, pcm: Int16Array) {
  const stream = vad.createStream();
  let state = initialSegmenterState;
  let t = 0;
  const starts: number[] = [];
  const ends: number[] = [];
  const probabilities: number[] = [];
  for (let i = 0; i < pcm.length; i += 160) {
    for (const w of await stream.process(pcm.subarray(i, i + 160))) {
      t += w.durationMs;
      probabilities.push(w.probability);
      const [next, events] = segment(state, w, CONFIG);
      state = next;
      for (const e of events) if (e.type === 'speech-start') starts.push(t);
      else if (e.type === 'speech-end') ends.push(t);
    }
  }
  return { starts, ends, probabilities };
}

/** Two utterances of `text` on a line with white noise at `noiseDb`, after `gapMs` of line noise. */
function call(text: string, noiseDb: number, gapMs: number): Int16Array {
  const parts = [new Int16Array(gapMs * 8), callerPcm(text, 'rms', 0), new Int16Array(1200 * 8), callerPcm(text, 'rms', 0), new Int16Array(800 * 8)];
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  const noise = whiteNoise(out.length, noiseDb, 3);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(-32768, Math.min(32767, out[i]! + noise[i]!));
  return out;
}

describe('Silero quiet gate', () => {
  it('never delays an onset, and moves an end by at most one window, on quiet lines', async () => {
    const gated = new SileroVad();
    const ungated = new SileroVad({ quietGateDbfs: null });
    let windows = 0;
    for (const noiseDb of [-70, -60]) {
      for (const text of ['yes', 'book an appointment', 'speak to someone', 'hello', 'ten a m', 'what is your address']) {
        for (const gapMs of [300, 1500]) {
          const pcm = call(text, noiseDb, gapMs);
          const [a, b] = [await run(ungated, pcm), await run(gated, pcm)];
          windows += a.probabilities.length;
          const where = `${text} @ ${noiseDb} dBFS after ${gapMs} ms`;
          expect(b.starts.length, where).toBe(a.starts.length);
          expect(b.ends.length, where).toBe(a.ends.length);
          b.starts.forEach((t, i) => expect(t, where).toBeLessThanOrEqual(a.starts[i]!));
          b.ends.forEach((t, i) => expect(Math.abs(t - a.ends[i]!), where).toBeLessThanOrEqual(WINDOW_MS));
        }
      }
    }
    // The point of the gate: a good share of the windows never reach the model, warm-up included.
    const skipped = gated.stats.quietWindows - gated.stats.warmUpWindows;
    expect(skipped / windows).toBeGreaterThan(0.15);
  }, 60_000);

  it('leaves audio above the gate exactly as the model hears it', async () => {
    const pcm = call('book an appointment', -45, 700);
    const gated = new SileroVad();
    const a = await run(new SileroVad({ quietGateDbfs: null }), pcm);
    const b = await run(gated, pcm);
    expect(gated.stats.quietWindows).toBe(0);
    b.probabilities.forEach((p, i) => expect(Math.abs(p - a.probabilities[i]!)).toBeLessThan(1e-6));
  });

  it('answers digital silence without the model, and runs every window when turned off', async () => {
    const silence = new Int16Array(8000 * 2);
    const gated = new SileroVad();
    const off = new SileroVad({ quietGateDbfs: null });
    const a = await run(gated, silence);
    await run(off, silence);
    const { batcher } = await gated.load();
    expect(a.probabilities).toHaveLength(62);
    expect(gated.stats.quietWindows).toBe(62); // a fresh stream starts in silence
    expect(batcher.stats.windows).toBe(0);
    expect((await off.load()).batcher.stats.windows).toBe(62);
  });
});
