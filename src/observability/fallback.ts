/**
 * One shape for every switch to a backup: a cloud recogniser to the offline one, a cloud voice to
 * the offline voice (or its socket to HTTP), the LLM to the flow brain. Engines report through a
 * `FallbackListener`; the call session counts, logs and records each one.
 */
export type FallbackStage = 'stt' | 'tts' | 'llm';

export interface FallbackEvent {
  stage: FallbackStage;
  /** The engine (or transport) that failed, e.g. `deepgram:nova-3`. */
  from: string;
  /** What carries on, e.g. `pocketsphinx`. */
  to: string;
  reason: string;
}

export type FallbackListener = (event: FallbackEvent) => void;

/**
 * A per-call relay: engines report into it as soon as they are built, the session subscribes when
 * it is ready, and nothing reported in between is lost.
 */
export class FallbackRelay {
  private listener: FallbackListener | null = null;
  private readonly early: FallbackEvent[] = [];

  readonly report: FallbackListener = (event) => {
    if (this.listener) this.listener(event);
    else this.early.push(event);
  };

  subscribe(listener: FallbackListener): void {
    this.listener = listener;
    for (const event of this.early.splice(0)) listener(event);
  }
}
