/**
 * Synthetic "caller" audio for tests: flite with a voice other than the agent's (slt/rms, 16 kHz),
 * decimated to 8 kHz and μ-law encoded, i.e. what would arrive over a Twilio media stream.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decimate16kTo8k, parseWav, pcm16ToMulaw, wavPcm16 } from '../../src/speech/audio-convert.js';

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
