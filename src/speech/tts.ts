/**
 * Text-to-speech stage: a stream of text in (sentences or deltas), μ-law 8 kHz audio out.
 * Every chunk names the text it renders, so playback accounting can tell which words were heard.
 */
export interface TtsChunk {
  /** μ-law 8 kHz mono, no header. Any length; playout re-frames it. */
  audio: Uint8Array;
  /** The text segment (usually a sentence) this audio belongs to. Same string for all its chunks. */
  text: string;
}

export interface TtsStreamOptions {
  text: AsyncIterable<string>;
  signal: AbortSignal;
}

export interface TextToSpeech {
  readonly name: string;
  /** Aborting the signal ends the iteration promptly and frees the engine's work. */
  stream(options: TtsStreamOptions): AsyncIterable<TtsChunk>;
  /** Render fixed prompts ahead of time; later requests for exactly these texts come from memory. */
  warm?(texts: readonly string[], signal?: AbortSignal): Promise<void>;
}
