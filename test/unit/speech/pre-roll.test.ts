import { describe, expect, it } from 'vitest';
import { pcm16ToMulaw } from '../../../src/speech/audio-convert.js';
import { preRollStart } from '../../../src/speech/pre-roll.js';

const MS = 8; // samples (= μ-law bytes) per ms

/** Deterministic white noise at `dbfs` (RMS), `ms` long. */
function noise(ms: number, dbfs: number, seed = 1): Int16Array {
  const out = new Int16Array(ms * MS);
  const amp = 32768 * 10 ** (dbfs / 20) * Math.sqrt(3); // uniform in [-a, a] has RMS a/√3
  let x = seed;
  for (let i = 0; i < out.length; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out[i] = Math.round(((x / 2 ** 31) * 2 - 1) * amp);
  }
  return out;
}

/** A 300 Hz tone at `dbfs` (RMS), standing in for a vowel. */
function tone(ms: number, dbfs: number): Int16Array {
  const amp = 32768 * 10 ** (dbfs / 20) * Math.SQRT2;
  return Int16Array.from({ length: ms * MS }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * 300 * i) / 8000)));
}

function ring(...parts: Int16Array[]): Uint8Array {
  const pcm = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (pcm.set(p, at), (at += p.length));
  return pcm16ToMulaw(pcm);
}

describe('preRollStart: where the utterance starts in the pre-roll ring', () => {
  it.each([
    // name, ring, expected start (ms into the ring)
    ['empty ring', new Uint8Array(0), 0],
    ['digital silence only: keep the whole ring', ring(new Int16Array(300 * MS)), 0],
    ['line noise only: keep the whole ring', ring(noise(300, -60)), 0],
    ['speech 200 ms in on a quiet line: 120 ms before it', ring(noise(200, -60), tone(100, -20)), 80],
    ['speech 200 ms in after digital silence', ring(new Int16Array(200 * MS), tone(100, -20)), 80],
    ['speech 50 ms in: clamped to the ring start', ring(noise(50, -60), tone(250, -20)), 0],
    ['soft speech (-45 dBFS) on a quiet line still anchors', ring(noise(180, -65), tone(120, -45)), 60],
    ['speech on a noisy line (-38 dBFS hiss)', ring(noise(220, -38), tone(80, -15)), 100],
    ['hiss-level bump on a noisy line is not speech', ring(noise(150, -38), noise(150, -35, 7)), 0],
  ])('%s', (_name, bytes, startMs) => {
    expect(preRollStart(bytes)).toBe(startMs * MS);
  });

  it('gives the same absolute start when the onset fires a VAD window or two (32 ms each) later', () => {
    const audio = ring(noise(400, -60), tone(200, -20)); // speech at 400 ms
    // Onsets land on 20 ms frame boundaries: the VAD answers once the frame completing a window is in.
    for (const onsetAt of [480, 500, 520, 540, 560]) {
      const start = onsetAt - 300; // the ring holds the last 300 ms before the onset
      const r = audio.subarray(start * MS, onsetAt * MS);
      expect(start * MS + preRollStart(r)).toBe((400 - 120) * MS);
    }
  });
});
