/**
 * Where an utterance's audio starts inside the pre-roll ring (the last `preRollMs` before the VAD
 * onset). Taking the whole ring ties the decoded audio to the exact moment the VAD fired: an onset a
 * 32 ms window later drops 32 ms of leading audio and adds 32 ms of speech, and a grammar decoder can
 * answer differently for it. Anchoring the start on the first block that rises above the line's own
 * noise (with a margin before it for a soft first consonant) gives the same start wherever in the
 * ring the onset happened, as long as the speech began at least `marginMs` after the ring's start.
 * Pure: bytes in, offset out.
 */
import { mulawToPcm16 } from './audio-convert.js';

const BYTES_PER_MS = 8;
/** Level blocks, ms. Aligned to the ring's end, which is a frame boundary of the call's audio. */
const BLOCK_MS = 10;

export interface PreRollAnchor {
  /** Audio kept before the first block above the floor, ms. */
  marginMs: number;
  /** Never anchor on anything quieter than this, dBFS (a quiet line's hiss or digital silence). */
  absoluteFloorDb: number;
  /** A block counts as the start of speech this far above the ring's quietest block, dB. */
  aboveNoiseDb: number;
}

export const DEFAULT_PRE_ROLL_ANCHOR: PreRollAnchor = { marginMs: 120, absoluteFloorDb: -55, aboveNoiseDb: 12 };

/** Mean square of each block (samples in [-1, 1)), blocks counted back from the end. */
function blockPowers(pcm: Int16Array, block: number): { start: number; power: number }[] {
  const out: { start: number; power: number }[] = [];
  for (let end = pcm.length; end > 0; end -= block) {
    const start = Math.max(0, end - block);
    let sum = 0;
    for (let i = start; i < end; i++) sum += (pcm[i]! / 32768) ** 2;
    out.push({ start, power: sum / (end - start) });
  }
  return out.reverse();
}

/**
 * Byte offset in `ring` (μ-law, oldest first) where the utterance should start: `marginMs` before
 * the first block above max(absolute floor, quietest block + `aboveNoiseDb`), clamped to 0. The
 * whole ring (0) when no block rises above the floor (the onset was on something quieter).
 */
export function preRollStart(ring: Uint8Array, anchor: PreRollAnchor = DEFAULT_PRE_ROLL_ANCHOR): number {
  if (ring.length === 0) return 0;
  const blocks = blockPowers(mulawToPcm16(ring), BLOCK_MS * BYTES_PER_MS);
  const quietest = Math.min(...blocks.map((b) => b.power));
  const floor = Math.max(10 ** (anchor.absoluteFloorDb / 10), quietest * 10 ** (anchor.aboveNoiseDb / 10));
  const first = blocks.find((b) => b.power > floor);
  if (!first) return 0;
  return Math.max(0, first.start - Math.round(anchor.marginMs * BYTES_PER_MS));
}
