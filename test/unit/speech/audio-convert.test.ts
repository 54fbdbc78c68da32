import { describe, expect, it } from 'vitest';
import {
  decimate16kTo8k,
  mulawToPcm16,
  parseWav,
  pcm16ToLeBytes,
  pcm16ToMulaw,
  upsample2xLinear,
  upsample2xSinc,
  wavPcm16,
} from '../../../src/speech/audio-convert.js';

function wav(opts: { rate?: number; channels?: number; bits?: number; format?: number; extraChunk?: boolean; samples: number[] }): Uint8Array {
  const { rate = 8000, channels = 1, bits = 16, format = 1, extraChunk = false, samples } = opts;
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => data.writeInt16LE(s, i * 2));
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(format, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE((rate * channels * bits) / 8, 16);
  fmt.writeUInt16LE((channels * bits) / 8, 20);
  fmt.writeUInt16LE(bits, 22);
  const extra = extraChunk ? Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc\0')]) : Buffer.alloc(0);
  const dataHeader = Buffer.alloc(8);
  dataHeader.write('data', 0, 'ascii');
  dataHeader.writeUInt32LE(data.length, 4);
  const body = Buffer.concat([Buffer.from('WAVE'), fmt, extra, dataHeader, data]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

describe('upsample2xLinear', () => {
  it.each([
    { input: [], output: [] },
    { input: [100], output: [100, 100] },
    { input: [0, 100], output: [0, 50, 100, 100] },
    { input: [-100, 100, 0], output: [-100, 0, 100, 50, 0, 0] },
    { input: [32767, 32767], output: [32767, 32767, 32767, 32767] },
    { input: [-32768, 32767], output: [-32768, -1, 32767, 32767] },
  ])('$input → $output', ({ input, output }) => {
    expect(Array.from(upsample2xLinear(Int16Array.from(input)))).toEqual(output);
  });
});

/** Energy of `x` in a band, by a direct DFT at the bin frequencies (fine for short test signals). */
function bandEnergy(x: Int16Array, rate: number, lowHz: number, highHz: number): number {
  let total = 0;
  for (let k = 0; k < x.length / 2; k++) {
    const f = (k * rate) / x.length;
    if (f < lowHz || f >= highHz) continue;
    let re = 0;
    let im = 0;
    for (let n = 0; n < x.length; n++) {
      re += x[n]! * Math.cos((2 * Math.PI * k * n) / x.length);
      im -= x[n]! * Math.sin((2 * Math.PI * k * n) / x.length);
    }
    total += re * re + im * im;
  }
  return total;
}

describe('upsample2xSinc', () => {
  it('keeps the input as the even samples', () => {
    const input = Int16Array.from({ length: 64 }, (_, i) => Math.round(8000 * Math.sin(i / 3)));
    const out = upsample2xSinc(input);
    expect(out.length).toBe(128);
    for (let i = 0; i < input.length; i++) expect(out[2 * i]).toBe(input[i]);
  });

  it.each([
    { input: [], output: [] },
    { input: [100], output: [100, 100] },
    { input: [500, 500, 500], output: [500, 500, 500, 500, 500, 500] },
  ])('$input → $output (unity gain at DC)', ({ input, output }) => {
    expect(Array.from(upsample2xSinc(Int16Array.from(input)))).toEqual(output);
  });

  it('leaves 4–8 kHz nearly empty where linear interpolation mirrors the speech band', () => {
    // A 3.2 kHz tone (on a DFT bin of the 600-sample window) at 8 kHz: its image lands at 4.8 kHz.
    const tone = Int16Array.from({ length: 400 }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * 3200 * i) / 8000)));
    const ratio = (up: Int16Array) => bandEnergy(up.subarray(100, 700), 16000, 4200, 8000) / bandEnergy(up.subarray(100, 700), 16000, 0, 4000);
    expect(ratio(upsample2xLinear(tone))).toBeGreaterThan(0.05); // image at about −10 dB
    expect(ratio(upsample2xSinc(tone))).toBeLessThan(0.001); // below −30 dB
  });
});

describe('μ-law round trip', () => {
  it.each([0, 1000, -1000, 8000, -32000])('%i survives within μ-law quantisation', (sample) => {
    const back = mulawToPcm16(pcm16ToMulaw(Int16Array.of(sample)))[0]!;
    expect(Math.abs(back - sample)).toBeLessThanOrEqual(Math.max(8, Math.abs(sample) * 0.07));
  });
});

describe('pcm16ToLeBytes', () => {
  it('writes little-endian', () => {
    expect(Array.from(pcm16ToLeBytes(Int16Array.of(1, -2, 0x1234)))).toEqual([1, 0, 0xfe, 0xff, 0x34, 0x12]);
  });
});

describe('parseWav', () => {
  it.each([
    { name: 'plain 8 kHz', opts: { samples: [1, -1, 300] }, rate: 8000 },
    { name: '16 kHz with a LIST chunk before data', opts: { rate: 16000, extraChunk: true, samples: [5, 6] }, rate: 16000 },
  ])('$name', ({ opts, rate }) => {
    const info = parseWav(wav(opts));
    expect(info.sampleRate).toBe(rate);
    expect(Array.from(wavPcm16(info))).toEqual(opts.samples);
  });

  it.each([
    { name: 'not RIFF', bytes: Buffer.from('hello world, not a wav'), error: /RIFF/ },
    { name: 'float format', bytes: wav({ format: 3, samples: [0] }), error: /only PCM/ },
    { name: 'truncated before data', bytes: wav({ samples: [] }).subarray(0, 36), error: /no data/ },
  ])('rejects $name', ({ bytes, error }) => {
    expect(() => parseWav(bytes)).toThrow(error);
  });

  it('rejects stereo when PCM16 mono is required', () => {
    expect(() => wavPcm16(parseWav(wav({ channels: 2, samples: [1, 2] })))).toThrow(/mono/);
  });
});

describe('decimate16kTo8k', () => {
  const tone = (hz: number, n: number) => Int16Array.from({ length: n }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * hz * i) / 16000)));
  const rms = (x: Int16Array) => Math.sqrt(x.slice(50, -50).reduce((a, v) => a + v * v, 0) / (x.length - 100));
  it.each([
    { hz: 0, keep: true },
    { hz: 440, keep: true },
    { hz: 2000, keep: true },
    { hz: 6000, keep: false },
  ])('$hz Hz passes: $keep', ({ hz, keep }) => {
    const input = hz === 0 ? new Int16Array(1600).fill(1000) : tone(hz, 1600);
    const out = decimate16kTo8k(input);
    expect(out.length).toBe(800);
    const ratio = rms(out) / rms(input);
    if (keep) expect(ratio).toBeGreaterThan(0.8);
    else expect(ratio).toBeLessThan(0.1);
  });
});
