/**
 * The browser phone's audio maths (public/phone/g711.js), run in Node: the same file the page's
 * AudioWorklet imports.
 */
import { describe, expect, it } from 'vitest';
import { decodeMulaw, encodeMulaw } from '../../src/media/mulaw.js';

interface PhoneAudio {
  linearToMulaw(sample: number): number;
  mulawToLinear(byte: number): number;
  Downsampler: new (inRate: number, outRate?: number) => { push(input: Float32Array): Float32Array };
  Upsampler: new (inRate: number, outRate: number) => { push(input: Float32Array): Float32Array };
}

// A runtime path keeps tsc from looking for declarations of a browser script.
const modulePath = '../../public/phone/g711.js';
const audio = (await import(modulePath)) as PhoneAudio;

function tone(hz: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
}

function rms(samples: Float32Array, skip = 0): number {
  let sum = 0;
  for (let i = skip; i < samples.length; i++) sum += samples[i]! ** 2;
  return Math.sqrt(sum / (samples.length - skip));
}

function downsample(input: Float32Array, rate: number): Float32Array {
  const down = new audio.Downsampler(rate, 8000);
  const parts: number[] = [];
  // In 128-sample render quanta, as the AudioWorklet delivers them.
  for (let i = 0; i < input.length; i += 128) parts.push(...down.push(input.subarray(i, i + 128)));
  return Float32Array.from(parts);
}

describe('browser phone G.711', () => {
  it('decodes every μ-law byte exactly like the server', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const server = decodeMulaw(bytes);
    for (let i = 0; i < 256; i++) expect(audio.mulawToLinear(i)).toBe(server[i]);
  });

  it('encodes like the server, across the whole 16-bit range', () => {
    const samples = Int16Array.from({ length: 65536 / 7 }, (_, i) => -32768 + i * 7);
    const server = encodeMulaw(samples);
    let differ = 0;
    samples.forEach((s, i) => (differ += audio.linearToMulaw(s) === server[i] ? 0 : 1));
    expect(differ).toBe(0);
  });

  it('round-trips within μ-law quantisation', () => {
    for (const s of [0, 100, -100, 1000, -5000, 20000, -32768, 32767]) {
      const back = audio.mulawToLinear(audio.linearToMulaw(s));
      expect(Math.abs(back - s)).toBeLessThanOrEqual(Math.max(8, Math.abs(s) * 0.07));
    }
  });
});

describe('browser phone resampling', () => {
  for (const rate of [48000, 44100]) {
    it(`downsamples ${rate} Hz to 8 kHz at the right length, keeping speech-band audio`, () => {
      const out = downsample(tone(1000, rate, 1), rate);
      expect(Math.abs(out.length - 8000)).toBeLessThan(20);
      expect(rms(out, 100) / rms(tone(1000, rate, 1))).toBeGreaterThan(0.95);
    });

    it(`removes what would alias (${rate} Hz input, 6 kHz tone)`, () => {
      // Naive dropping would fold 6 kHz down to an audible 2 kHz at full level.
      const out = downsample(tone(6000, rate, 1), rate);
      expect(rms(out, 100)).toBeLessThan(0.01 * rms(tone(6000, rate, 1)));
    });
  }

  it('upsamples 8 kHz to the context rate continuously across chunks', () => {
    const up = new audio.Upsampler(8000, 48000);
    const input = tone(440, 8000, 0.5);
    const parts: number[] = [];
    for (let i = 0; i < input.length; i += 160) parts.push(...up.push(input.subarray(i, i + 160)));
    expect(Math.abs(parts.length - 24000)).toBeLessThanOrEqual(1);
    const out = Float32Array.from(parts);
    expect(rms(out, 50) / rms(input)).toBeGreaterThan(0.97);
  });
});
