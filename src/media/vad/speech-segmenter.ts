/**
 * Turns per-window speech probabilities into turn-taking events. Pure: state in, state out.
 *
 * - `speech-start` after `onsetMs` of speech (hysteresis: above `threshold`).
 * - `barge-in-eligible` once the speech has lasted `minBargeInMs`: a cough or a click of echo is
 *   shorter than that and must not cut the agent off.
 * - `speech-long` once the speech has lasted `longSpeechMs` (if set): longer than a listener sound
 *   ("okay", "uh huh") lasts, so over the agent it is an interruption whatever its words.
 * - `speech-pause` once per silence run when it reaches `pauseMs` (< `endSilenceMs`): the turn may be
 *   ending, so a recogniser can start decoding early and have the transcript ready at `speech-end`.
 * - `speech-end` after `endSilenceMs` below `threshold - hysteresis` (the end of the caller's turn),
 *   or after the silence chosen for this pause by `endTurnAfter` (from how complete the caller's
 *   words are); speech resuming drops that choice.
 */
import type { VadWindow } from './vad.js';

export interface SegmenterConfig {
  threshold: number;
  hysteresis: number;
  onsetMs: number;
  minBargeInMs: number;
  /** Speech after which `speech-long` is signalled; omitted: never. */
  longSpeechMs?: number;
  endSilenceMs: number;
  /** Silence after which `speech-pause` is signalled; omitted: never. */
  pauseMs?: number;
}

export interface SegmenterState {
  speaking: boolean;
  /** Consecutive speech ms while not speaking (onset candidate). */
  pendingSpeechMs: number;
  /** Speech ms since onset (for barge-in eligibility). */
  speechMs: number;
  bargeInSignalled: boolean;
  /** Consecutive silence ms while speaking. */
  silenceMs: number;
  /** Silence that ends this pause, chosen by `endTurnAfter`; null: `endSilenceMs`. */
  endAfterMs: number | null;
}

export type SegmenterEvent =
  | { type: 'speech-start'; /** speech already heard before the event, ms */ leadMs: number }
  | { type: 'barge-in-eligible' }
  | { type: 'speech-long' }
  | { type: 'speech-pause' }
  | { type: 'speech-end'; /** trailing silence already elapsed, ms */ trailingMs: number };

export const initialSegmenterState: SegmenterState = {
  speaking: false,
  pendingSpeechMs: 0,
  speechMs: 0,
  bargeInSignalled: false,
  silenceMs: 0,
  endAfterMs: null,
};

/**
 * End the current pause after `silenceMs` of silence (now, if that much has already passed).
 * No effect unless the caller is speaking or pausing.
 */
export function endTurnAfter(state: SegmenterState, silenceMs: number): [SegmenterState, SegmenterEvent[]] {
  if (!state.speaking) return [state, []];
  if (state.silenceMs > 0 && state.silenceMs >= silenceMs) return [initialSegmenterState, [{ type: 'speech-end', trailingMs: state.silenceMs }]];
  return [{ ...state, endAfterMs: silenceMs }, []];
}

export function segment(
  state: SegmenterState,
  window: VadWindow,
  config: SegmenterConfig,
): [SegmenterState, SegmenterEvent[]] {
  const events: SegmenterEvent[] = [];
  if (!state.speaking) {
    const isSpeech = window.probability >= config.threshold;
    const pending = isSpeech ? state.pendingSpeechMs + window.durationMs : 0;
    if (pending >= config.onsetMs) {
      events.push({ type: 'speech-start', leadMs: pending });
      const next: SegmenterState = {
        speaking: true,
        pendingSpeechMs: 0,
        speechMs: pending,
        bargeInSignalled: pending >= config.minBargeInMs,
        silenceMs: 0,
        endAfterMs: null,
      };
      if (next.bargeInSignalled) events.push({ type: 'barge-in-eligible' });
      return [next, events];
    }
    return [{ ...state, pendingSpeechMs: pending }, events];
  }

  const isSilence = window.probability < config.threshold - config.hysteresis;
  if (isSilence) {
    const silenceMs = state.silenceMs + window.durationMs;
    const pauseMs = config.pauseMs;
    if (pauseMs !== undefined && pauseMs < config.endSilenceMs && state.silenceMs < pauseMs && silenceMs >= pauseMs) {
      events.push({ type: 'speech-pause' });
    }
    if (silenceMs >= (state.endAfterMs ?? config.endSilenceMs)) {
      events.push({ type: 'speech-end', trailingMs: silenceMs });
      return [initialSegmenterState, events];
    }
    return [{ ...state, silenceMs }, events];
  }
  const speechMs = state.speechMs + window.durationMs;
  let bargeInSignalled = state.bargeInSignalled;
  if (!bargeInSignalled && speechMs >= config.minBargeInMs) {
    bargeInSignalled = true;
    events.push({ type: 'barge-in-eligible' });
  }
  const long = config.longSpeechMs;
  if (long !== undefined && state.speechMs < long && speechMs >= long) events.push({ type: 'speech-long' });
  return [{ ...state, speechMs, bargeInSignalled, silenceMs: 0, endAfterMs: null }, events];
}
