/**
 * Speech-to-text stage. One `SttStream` per call. The call session feeds it every inbound frame
 * (μ-law 8 kHz, gaps already filled with silence) and tells it what its own VAD decided, so an
 * engine that cannot endpoint by itself (an offline grammar decoder) and one that can (a cloud
 * streaming recogniser) sit behind the same interface.
 */
export type SttEvent =
  /** The engine's own voice activity detector saw speech start (cloud engines only). */
  | { type: 'speech-start' }
  /**
   * Words heard so far in the caller's turn. `speculative`: recognised from the audio up to the
   * caller's last pause (`speechPaused()`, the offline engine's early decode), so it only holds while
   * the caller stays silent; `recognition` then holds both understanding passes of that decode.
   */
  | { type: 'transcript-partial'; text: string; speculative?: boolean; recognition?: Recognition }
  | {
      type: 'transcript-final';
      text: string;
      /** 0..1; engines without a confidence report 1 for an in-grammar match. */
      confidence: number;
      /** True when this transcript closes the caller's turn. */
      endOfTurn: boolean;
      /** Time the engine spent producing this final after it had the audio, ms. */
      sttMs: number;
      /** Both offline passes (grammar and open vocabulary), when the engine ran them. */
      recognition?: Recognition;
    }
  | { type: 'error'; error: Error; fatal: boolean };

/** One recognition pass over an utterance. */
export interface SttHypothesis {
  text: string;
  confidence: number;
  /** Acoustic log score of the best path (engine units); comparable across passes of one utterance. */
  acousticScore: number;
  decodeMs: number;
  /** CPU the decoder spent on this pass, ms (offline engines). */
  cpuMs?: number;
}

/**
 * An utterance decoded twice: against the turn's grammar (accurate for expected answers, but it
 * can only return in-grammar text) and with an open-vocabulary language model (hears anything,
 * less exact). `fit` is how much better the open pass explains the audio, acoustic score per
 * frame: near 0 the grammar heard what was said; large means the caller said something else.
 */
export interface Recognition {
  grammar?: SttHypothesis;
  open?: SttHypothesis;
  /** The pass the engine believes; its text is the transcript's text. */
  chosen: 'grammar' | 'open';
  fit: number;
  /** Speech-to-noise ratio of the utterance, dB (speech/line-level.ts); noise lowers trust in `fit`. */
  snrDb?: number;
}

/** What the next caller turn is expected to contain, in a form each engine can use. */
export interface SttHints {
  /** A JSGF grammar (offline grammar decoders). */
  jsgf?: string;
  /** Words or phrases worth boosting (cloud engines). */
  keywords?: readonly string[];
}

export interface SttStream {
  /** Caller audio, μ-law 8 kHz, in media order. */
  write(mulaw: Uint8Array): void;
  /** The session's VAD saw the caller start speaking (the engine keeps its own pre-roll). */
  speechStarted(): void;
  /**
   * The caller paused: the turn may be ending. An engine may start recognising what it has; the
   * next `speechEnded()` (with only silence in between) then finishes the same utterance.
   */
  speechPaused?(): void;
  /**
   * The engine answers `speechPaused()` with a speculative `transcript-partial` of the words so far
   * (offline decoders): until it arrives, a pause must not be taken for the end of the turn.
   * Streaming recognisers report words as they come and leave this unset.
   */
  readonly decodesAtPause?: boolean;
  /** The session's VAD decided the caller's turn is over. */
  speechEnded(): void;
  setHints(hints: SttHints): void;
  /** Idempotent; also happens when the open() signal aborts. */
  close(): void;
}

export interface SttOpenOptions {
  signal: AbortSignal;
  hints: SttHints;
  /** Audio kept from before the VAD onset so the first syllable is not cut, ms. */
  preRollMs: number;
  onEvent: (event: SttEvent) => void;
}

export interface SpeechToText {
  /** Engine name for the call record, e.g. `pocketsphinx` or `deepgram:nova-3`. */
  readonly name: string;
  open(options: SttOpenOptions): SttStream;
}
