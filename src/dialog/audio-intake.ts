/**
 * The inbound audio path of one call: μ-law frames → PCM → VAD (in order) → speech segmenter events,
 * with each frame handed on (to the recogniser) in step with the VAD's decision about it, so an
 * utterance cut at speech-start/speech-end holds exactly that audio even when frames arrive in a
 * burst. Keeps the inbound media clock the events refer to.
 */
import { decodeMulaw } from '../media/mulaw.js';
import { initialSegmenterState, segment, type SegmenterConfig, type SegmenterEvent } from '../media/vad/speech-segmenter.js';
import type { VadStream } from '../media/vad/vad.js';

export interface AudioIntakeHooks {
  /** A frame the VAD has now seen (feed the recogniser here). */
  onFrame(mulaw: Uint8Array): void;
  onEvent(event: SegmenterEvent): void;
  onError(error: unknown): void;
}

export class AudioIntake {
  private segmenter = initialSegmenterState;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** Inbound audio the VAD has processed, ms: the media clock segmenter events refer to. */
  audioMs = 0;

  constructor(
    private readonly vad: VadStream,
    private readonly config: SegmenterConfig,
    private readonly hooks: AudioIntakeHooks,
  ) {}

  push(mulaw: Uint8Array): void {
    if (this.closed) return;
    const pcm = decodeMulaw(mulaw);
    this.chain = this.chain
      .then(() => this.vad.process(pcm))
      .then((windows) => {
        if (this.closed) return;
        this.hooks.onFrame(mulaw);
        this.audioMs += mulaw.length / 8;
        for (const window of windows) {
          const [next, events] = segment(this.segmenter, window, this.config);
          this.segmenter = next;
          for (const event of events) this.hooks.onEvent(event);
        }
      })
      .catch((error: unknown) => {
        if (!this.closed) this.hooks.onError(error);
      });
  }

  close(): void {
    this.closed = true;
    this.vad.close();
  }
}
