import alawmulaw from 'alawmulaw';
import { describe, expect, it } from 'vitest';
import { decodeMulaw, encodeMulaw, FRAME_BYTES, MULAW_SILENCE, mulawDurationMs, mulawSilence } from '../../src/media/mulaw.js';

describe('μ-law codec', () => {
  // G.711 reference points: 0xFF and 0x7F are the two zeros, 0x80/0x00 the extremes.
  it.each([
    [0xff, 0],
    [0x7f, 0],
    [0x80, 32124],
    [0x00, -32124],
    [0xfe, 8],
    [0x7e, -8],
    [0xef, 132],
  ])('decodes code %i to %i', (code, sample) => {
    expect(decodeMulaw(Uint8Array.of(code))[0]).toBe(sample);
  });

  it.each([
    [0, 0xff],
    [32767, 0x80], // clips to the largest positive code
    [-32768, 0x00], // clips to the largest negative code
    [40, 0xfa],
    [-40, 0x7a],
  ])('encodes %i to code %i', (sample, code) => {
    expect(encodeMulaw(Int16Array.of(sample))[0]).toBe(code);
  });

  it('agrees with alawmulaw for every code', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(Array.from(decodeMulaw(all))).toEqual(Array.from(alawmulaw.mulaw.decode(all)));
  });

  it('round-trips every code except the duplicate zero', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const back = encodeMulaw(decodeMulaw(all));
    for (let code = 0; code < 256; code++) {
      expect(back[code]).toBe(code === 0x7f ? 0xff : code);
    }
  });

  it('makes silence and measures duration', () => {
    const s = mulawSilence(20);
    expect(s.length).toBe(FRAME_BYTES);
    expect(s.every((b) => b === MULAW_SILENCE)).toBe(true);
    expect(mulawDurationMs(FRAME_BYTES)).toBe(20);
  });
});
