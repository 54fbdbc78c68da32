/**
 * Caller audio from voices other than the agent's own (flite `kal`): flite rms/slt/awb and
 * espeak-ng's American and British voices, sent through a telephone line: band-limited to
 * 300–3400 Hz and resampled to 8 kHz by sox, light white line noise added, G.711 μ-law encoded.
 * Needs flite, espeak-ng and sox (scripts/test-packages.txt).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWav, pcm16ToMulaw, wavPcm16 } from '../../src/speech/audio-convert.js';
import { whiteNoise } from './caller-audio.js';

export interface PhoneVoice {
  id: string;
  engine: 'flite' | 'espeak-ng';
  voice: string;
}

export const PHONE_VOICES: readonly PhoneVoice[] = [
  { id: 'flite-rms', engine: 'flite', voice: 'rms' },
  { id: 'flite-slt', engine: 'flite', voice: 'slt' },
  { id: 'flite-awb', engine: 'flite', voice: 'awb' },
  { id: 'espeak-us', engine: 'espeak-ng', voice: 'en-us' },
  { id: 'espeak-gb', engine: 'espeak-ng', voice: 'en-gb-x-rp' },
];

export interface LineOptions {
  /** RMS of the added line noise, dBFS (default -50). */
  noiseDbfs?: number;
  /** Silence before and after the speech, ms (default 300). */
  padMs?: number;
  seed?: number;
}

/** PCM16 at 8 kHz of `text` said by `voice` over a phone line (before μ-law). */
export function phoneLinePcm(text: string, voice: PhoneVoice, options: LineOptions = {}): Int16Array {
  const dir = mkdtempSync(join(tmpdir(), 'phone-voice-'));
  try {
    const raw = join(dir, 'tts.wav');
    const line = join(dir, 'line.wav');
    if (voice.engine === 'flite') execFileSync('flite', ['-voice', voice.voice, '-t', text, '-o', raw]);
    else execFileSync('espeak-ng', ['-v', voice.voice, '-s', '160', '-w', raw, text]);
    // Telephone band, 8 kHz, peaks at -3 dBFS so every voice arrives at a similar level.
    execFileSync('sox', [raw, '-r', '8000', '-c', '1', '-b', '16', line, 'sinc', '300-3400', 'gain', '-n', '-3']);
    const speech = wavPcm16(parseWav(readFileSync(line)));
    const pad = ((options.padMs ?? 300) * 8000) / 1000;
    const noise = whiteNoise(speech.length + 2 * pad, options.noiseDbfs ?? -50, options.seed ?? text.length + 1);
    const out = new Int16Array(noise.length);
    for (let i = 0; i < out.length; i++) {
      const s = i >= pad && i < pad + speech.length ? speech[i - pad]! : 0;
      out[i] = Math.max(-32768, Math.min(32767, s + noise[i]!));
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function phoneLineMulaw(text: string, voice: PhoneVoice, options: LineOptions = {}): Uint8Array {
  return pcm16ToMulaw(phoneLinePcm(text, voice, options));
}
