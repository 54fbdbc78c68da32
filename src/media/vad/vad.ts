/**
 * Voice activity detection: speech probability per analysis window. Turn-taking decisions
 * (onset, end of turn, minimum speech for barge-in) live in `speech-segmenter.ts`, a pure function
 * of these windows, so any detector can drive them.
 */
export interface VadWindow {
  /** 0..1 */
  probability: number;
  /** Audio covered by this window, ms. */
  durationMs: number;
}

export interface VadStream {
  /**
   * Feed 8 kHz 16-bit PCM in media order. Resolves with one entry per complete analysis window
   * (the stream buffers partial windows). Calls must be awaited in order.
   */
  process(pcm: Int16Array): Promise<VadWindow[]>;
  close(): void;
}

export interface Vad {
  readonly name: string;
  createStream(): VadStream;
}
