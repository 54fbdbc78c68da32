/**
 * Synthetic "caller" audio for tests: flite with a voice other than the agent's (slt/rms, 16 kHz),
 * decimated to 8 kHz and μ-law encoded, i.e. what would arrive over a Twilio media stream.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decimate16kTo8k, parseWav, pcm16ToMulaw, wavPcm16 } from '../../src/speech/audio-convert.js';
import { decodeMulaw } from '../../src/media/mulaw.js';

/** PCM16 8 kHz speech for `text` from flite `voice`, with `padMs` of silence on both sides. */
export function callerPcm(text: string, voice = 'slt', padMs = 300): Int16Array {
  const dir = mkdtempSync(join(tmpdir(), 'caller-audio-'));
  try {
    const file = join(dir, 'speech.wav');
    execFileSync('flite', ['-voice', voice, '-t', text, '-o', file]);
    const wav = parseWav(readFileSync(file));
    let pcm = wavPcm16(wav);
    if (wav.sampleRate === 16000) pcm = decimate16kTo8k(pcm);
    else if (wav.sampleRate !== 8000) throw new Error(`unexpected flite rate ${wav.sampleRate}`);
    const pad = (padMs * 8000) / 1000;
    const out = new Int16Array(pcm.length + 2 * pad);
    out.set(pcm, pad);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function callerMulaw(text: string, voice = 'slt', padMs = 300): Uint8Array {
  return pcm16ToMulaw(callerPcm(text, voice, padMs));
}

/** Split into 20 ms Twilio-sized frames (160 bytes of μ-law). */
export function frames(mulaw: Uint8Array, frameBytes = 160): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < mulaw.length; i += frameBytes) out.push(mulaw.subarray(i, i + frameBytes));
  return out;
}

/** Deterministic white noise at roughly `dbfs` RMS (PCM16). */
export function whiteNoise(samples: number, dbfs: number, seed = 1): Int16Array {
  let state = seed >>> 0 || 1;
  const rand = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
  const rms = 32768 * 10 ** (dbfs / 20);
  const amplitude = rms * Math.sqrt(3); // uniform in [-a, a] has RMS a/√3
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = Math.round((rand() * 2 - 1) * amplitude);
  return out;
}

/**
 * A cough-like burst with no words: a short voiced "huh" (120 Hz pulses through two formant
 * resonators) with a breathy noise onset and a fast decay, `ms` long, at 8 kHz PCM16.
 */
export function coughPcm(ms = 350, seed = 3): Int16Array {
  const n = Math.round(ms * 8);
  const noise = whiteNoise(n, -12, seed);
  const out = new Int16Array(n);
  const res = [resonator(650, 120), resonator(1100, 150), resonator(2400, 250)];
  for (let i = 0; i < n; i++) {
    const t = i / 8000;
    const env = Math.min(1, t / 0.01) * Math.exp(-t / (ms / 1000 / 3));
    const pulse = i % Math.round(8000 / 120) === 0 ? 9000 : 0;
    const src = pulse + noise[i]! * 0.6;
    let y = 0;
    for (const r of res) y += r(src);
    out[i] = Math.max(-32768, Math.min(32767, Math.round(y * env * 0.5)));
  }
  return out;
}

/** Two-pole resonator at `hz` with `bandwidth` Hz, 8 kHz. */
function resonator(hz: number, bandwidth: number): (x: number) => number {
  const r = Math.exp((-Math.PI * bandwidth) / 8000);
  const a1 = 2 * r * Math.cos((2 * Math.PI * hz) / 8000);
  const a2 = -r * r;
  const gain = 1 - r;
  let y1 = 0;
  let y2 = 0;
  return (x) => {
    const y = gain * x + a1 * y1 + a2 * y2;
    y2 = y1;
    y1 = y;
    return y;
  };
}

/** μ-law audio cut 10 ms after its last loud sample: the words, and no silence after them. */
export function withoutTrailingSilence(mulaw: Uint8Array): Uint8Array {
  const pcm = decodeMulaw(mulaw);
  let last = pcm.length - 1;
  while (last > 0 && Math.abs(pcm[last]!) < 2000) last--;
  return mulaw.subarray(0, Math.min(mulaw.length, last + 80));
}
