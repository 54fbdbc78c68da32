/**
 * Which text piece a chunk of streamed audio renders, from the per-character alignment the
 * ElevenLabs socket sends with each chunk. A whole turn runs through one context, so the server
 * never says where one piece's audio ends; counting aligned characters against the pieces we sent
 * does. Whitespace is ignored on both sides: the server's spacing need not match ours.
 */
import type { Alignment } from './elevenlabs-socket.js';

export interface PieceProgress {
  readonly text: string;
  /** Non-whitespace characters in `text`. */
  readonly weight: number;
  /** Non-whitespace characters already heard in aligned audio. */
  rendered: number;
}

export function visibleLength(text: string): number {
  return text.replace(/\s+/g, '').length;
}

export interface AudioSlice<P extends PieceProgress> {
  piece: P;
  audio: Uint8Array;
}

/** μ-law 8 kHz: one byte per sample, 8 per millisecond. */
const BYTES_PER_MS = 8;

/**
 * Splits one audio chunk among `pieces` (the turn's unfinished socket pieces, in order), advancing
 * their `rendered` counts. Audio is cut where the first character of the next piece starts.
 * Without alignment the whole chunk goes to the first unfinished piece (approximate, never reordered).
 */
export function sliceByAlignment<P extends PieceProgress>(audio: Uint8Array, alignment: Alignment | null, pieces: readonly P[]): AudioSlice<P>[] {
  let index = pieces.findIndex((p) => p.rendered < p.weight);
  if (index < 0) index = pieces.length - 1;
  const first = pieces[index];
  if (!first) return [];
  if (!alignment) return [{ piece: first, audio }];
  const slices: AudioSlice<P>[] = [];
  let piece = first;
  let sliceStart = 0;
  alignment.chars.forEach((char, i) => {
    if (/^\s*$/.test(char)) return;
    const next = pieces[index + 1];
    if (piece.rendered >= piece.weight && next) {
      const cut = clamp(Math.round((alignment.charStartTimesMs[i] ?? 0) * BYTES_PER_MS), sliceStart, audio.length);
      if (cut > sliceStart) slices.push({ piece, audio: audio.subarray(sliceStart, cut) });
      sliceStart = cut;
      index++;
      piece = next;
    }
    piece.rendered += char.replace(/\s+/g, '').length;
  });
  if (sliceStart < audio.length) slices.push({ piece, audio: audio.subarray(sliceStart) });
  return slices;
}

/**
 * The text of `piece` not yet heard, starting at the word being spoken: when the socket dies
 * mid-sentence, the HTTP fallback repeats at most one partial word instead of the whole sentence.
 */
export function unrenderedText(piece: PieceProgress): string {
  if (piece.rendered <= 0) return piece.text;
  if (piece.rendered >= piece.weight) return '';
  let seen = 0;
  let position = 0;
  while (position < piece.text.length && seen < piece.rendered) {
    if (!/\s/.test(piece.text[position]!)) seen++;
    position++;
  }
  const midWord = position < piece.text.length && !/\s/.test(piece.text[position]!);
  while (midWord && position > 0 && !/\s/.test(piece.text[position - 1]!)) position--;
  return piece.text.slice(position).trim();
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
