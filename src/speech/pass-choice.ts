/**
 * The offline recogniser's two passes over one utterance (state grammar, open vocabulary) and which
 * to believe. Pure: decoder results in, the chosen text and both hypotheses out. Used by the whole
 * decode (pocketsphinx-stt.ts) and the streamed one (pocketsphinx-live.ts) alike.
 */
import type { DecodeResult } from './pocketsphinx-pool.js';
import type { Recognition, SttHypothesis } from './stt.js';

/** Both passes over one utterance, and which to believe. */
export interface Heard {
  text: string;
  confidence: number;
  recognition: Recognition;
}

const hypothesis = (r: DecodeResult): SttHypothesis => ({
  text: r.text.trim(),
  confidence: r.text ? r.confidence : 0,
  acousticScore: r.acousticScore,
  decodeMs: Math.round(r.decodeMs),
  cpuMs: Math.round(r.cpuMs),
});

/**
 * Which pass to believe. Both passes use the same acoustic model on the same frames, so the
 * difference of their acoustic scores per frame says how hard the grammar had to bend the audio
 * to fit: out-of-grammar speech forced onto grammar words scores clearly worse than the open pass.
 */
export function choose(g: DecodeResult, o: DecodeResult | undefined, fitThreshold: number, snrDb: number | null = null): Heard {
  const grammar = hypothesis(g);
  const snr = snrDb === null ? {} : { snrDb };
  if (!o) return { text: grammar.text, confidence: grammar.confidence, recognition: { grammar, chosen: 'grammar', fit: 0, ...snr } };
  const open = hypothesis(o);
  const frames = Math.max(1, o.frames || g.frames);
  const fit = grammar.text && open.text ? (open.acousticScore - grammar.acousticScore) / frames : open.text ? Number.POSITIVE_INFINITY : 0;
  // The search's language weight can keep even a forced path's acoustic score competitive, so also
  // distrust a grammar result that covers a fragment of what the open pass heard ("come again"
  // for "I would like to come in and see someone").
  const count = (t: string) => t.split(' ').filter(Boolean).length;
  const fragment = count(open.text) >= 2 * count(grammar.text) + 2;
  const threshold = noiseAdjustedThreshold(fitThreshold, snrDb);
  const chosen = open.text && (!grammar.text || fit > threshold || fragment) ? 'open' : 'grammar';
  const recognition: Recognition = { grammar, open, chosen, fit: Number.isFinite(fit) ? Math.round(fit * 10) / 10 : 999, ...snr };
  // Confidence of the chosen text: the grammar's own, scaled down as the open pass fits better.
  const confidence =
    chosen === 'grammar' ? grammar.confidence * Math.min(1, Math.max(0.1, 1 - Math.max(0, fit) / (2 * fitThreshold))) : Math.min(0.9, open.confidence);
  return { text: chosen === 'grammar' ? grammar.text : open.text, confidence, recognition };
}

/** Below this speech-to-noise ratio the line counts as noisy (a clean phone line is 35–45 dB). */
export const CLEAN_SNR_DB = 30;
/** Extra fit the open pass needs per dB of SNR below clean. */
const FIT_PER_NOISE_DB = 0.35;

/**
 * On a noisy line the open pass explains the noise with short words ("goodbye" over hiss came back
 * as "move my") where the grammar can only use silence, so its acoustic lead says less: require
 * more of it, in proportion to how far the line is below a clean one.
 */
export function noiseAdjustedThreshold(fitThreshold: number, snrDb: number | null): number {
  if (snrDb === null) return fitThreshold;
  return fitThreshold + FIT_PER_NOISE_DB * Math.max(0, CLEAN_SNR_DB - snrDb);
}
