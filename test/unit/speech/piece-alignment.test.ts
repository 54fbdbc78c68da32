import { describe, expect, it } from 'vitest';
import { sliceByAlignment, unrenderedText, visibleLength, type PieceProgress } from '../../../src/speech/piece-alignment.js';

function piece(text: string): PieceProgress {
  return { text, weight: visibleLength(text), rendered: 0 };
}

describe('sliceByAlignment', () => {
  it('cuts a chunk where the next piece starts', () => {
    const first = piece('Hi.');
    const second = piece('Ok');
    const audio = new Uint8Array(80).map((_, i) => i);
    // "Hi. Ok " over 10 ms: the 'O' starts at 6 ms → byte 48.
    const alignment = { chars: [...'Hi. Ok '], charStartTimesMs: [0, 1, 2, 3, 6, 7, 9] };
    const slices = sliceByAlignment(audio, alignment, [first, second]);
    expect(slices.map((s) => [s.piece.text, s.audio.length])).toEqual([
      ['Hi.', 48],
      ['Ok', 32],
    ]);
    expect(slices[1]!.audio[0]).toBe(48);
    expect([first.rendered, second.rendered]).toEqual([3, 2]);
  });

  it('gives an unaligned chunk to the first unfinished piece', () => {
    const done = { ...piece('Hi.'), rendered: 3 };
    const next = piece('Ok');
    expect(sliceByAlignment(new Uint8Array(8), null, [done, next]).map((s) => s.piece)).toEqual([next]);
  });
});

describe('unrenderedText', () => {
  it('resumes at the word being spoken', () => {
    expect(unrenderedText({ ...piece('one two three'), rendered: 5 })).toBe('two three');
    expect(unrenderedText({ ...piece('one two three'), rendered: 3 })).toBe('two three');
    expect(unrenderedText({ ...piece('one two three'), rendered: 0 })).toBe('one two three');
    expect(unrenderedText({ ...piece('one two three'), rendered: 11 })).toBe('');
  });
});
