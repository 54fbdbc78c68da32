/**
 * Synthetic caller speech for fixtures: flite with the `rms` voice (the one the offline recogniser
 * hears best through μ-law), decimated to 8 kHz, optionally with line noise, μ-law encoded.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decimate16kTo8k, parseWav, pcm16ToMulaw, wavPcm16 } from '../src/speech/audio-convert.js';

export interface VoiceOptions {
  voice?: string;
  /** Silence before and after the words, ms. */
  padMs?: number;
  /** White noise at this level (dBFS RMS) over the whole utterance, padding included. */
  noiseDbfs?: number;
  seed?: number;
}

export function callerSpeech(text: string, options: VoiceOptions = {}): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'caller-voice-'));
  try {
    const file = join(dir, 'speech.wav');
    execFileSync('flite', ['-voice', options.voice ?? 'rms', '-t', text, '-o', file]);
    const wav = parseWav(readFileSync(file));
    let pcm = wavPcm16(wav);
    if (wav.sampleRate === 16000) pcm = decimate16kTo8k(pcm);
    else if (wav.sampleRate !== 8000) throw new Error(`unexpected flite rate ${wav.sampleRate}`);
    const pad = ((options.padMs ?? 200) * 8000) / 1000;
    const out = new Int16Array(pcm.length + 2 * pad);
    out.set(pcm, pad);
    if (options.noiseDbfs !== undefined) addNoise(out, options.noiseDbfs, options.seed ?? 1);
    return pcm16ToMulaw(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Deterministic white noise (xorshift), added in place with clipping. */
function addNoise(pcm: Int16Array, dbfs: number, seed: number): void {
  let state = seed >>> 0 || 1;
  const amplitude = 32768 * 10 ** (dbfs / 20) * Math.sqrt(3);
  for (let i = 0; i < pcm.length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const noise = (state / 0x100000000) * 2 - 1;
    pcm[i] = Math.max(-32768, Math.min(32767, Math.round((pcm[i] ?? 0) + noise * amplitude)));
  }
}
