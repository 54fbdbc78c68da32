/**
 * How noisy a phone line is, from the utterance itself: the level of its quietest 20 ms frames
 * (the line's noise floor: every utterance carries pre-roll and trailing silence) against its
 * loudest (the speech). Pure, cheap (one pass over the samples).
 */

const FRAME = 160; // 20 ms at 8 kHz

/** Frame RMS levels in dBFS (floored at -100). */
export function frameLevelsDb(pcm8k: Int16Array): number[] {
  const out: number[] = [];
  for (let at = 0; at + FRAME <= pcm8k.length; at += FRAME) {
    let sum = 0;
    for (let i = at; i < at + FRAME; i++) sum += pcm8k[i]! * pcm8k[i]!;
    const rms = Math.sqrt(sum / FRAME) / 32768;
    out.push(rms > 0 ? Math.max(-100, 20 * Math.log10(rms)) : -100);
  }
  return out;
}

/** Frames below this are digital silence (no line at all, e.g. silence suppression), not line noise. */
const DIGITAL_SILENCE_DB = -85;

/**
 * Speech-to-noise ratio in dB: 90th against 10th percentile frame level, digital silence left out;
 * null when too short.
 */
export function lineSnrDb(pcm8k: Int16Array): number | null {
  const levels = frameLevelsDb(pcm8k).filter((l) => l > DIGITAL_SILENCE_DB).sort((a, b) => a - b);
  if (levels.length < 10) return null;
  const at = (q: number) => levels[Math.min(levels.length - 1, Math.floor(q * levels.length))]!;
  return Math.round((at(0.9) - at(0.1)) * 10) / 10;
}
