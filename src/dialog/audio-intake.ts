/**
 * The inbound audio path of one call: μ-law frames → PCM → VAD (in order) → speech segmenter events,
 * with each frame handed on (to the recogniser) in step with the VAD's decision about it, so an
 * utterance cut at speech-start/speech-end holds exactly that audio even when frames arrive in a
 * burst. Keeps the inbound media clock the events refer to.
 *
 * The caller's silence is also measured in time, not only in frames: Twilio sends a frame every
 * 20 ms for the whole call, but when the wire goes quiet (a stalled network, a peer that stops
 * sending after its words) the time that passes without audio counts as silence, so a turn still
 * ends when it should.
 */
import { decodeMulaw } from '../media/mulaw.js';
import { endTurnAfter, initialSegmenterState, segment, type SegmenterConfig, type SegmenterEvent, type SegmenterState } from '../media/vad/speech-segmenter.js';
import type { VadStream } from '../media/vad/vad.js';
import type { Scheduler, Timer } from '../util/scheduler.js';

/** No frame for this long (and none waiting for the VAD): the wire is quiet, its time is silence. */
export const QUIET_WIRE_MS = 100;

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
  /** Frames pushed and not yet through the VAD. */
  private queued = 0;
  private lastFrameAt: number;
  /** Quiet-wire time already counted as silence, up to this instant. */
  private creditedUntil = 0;
  /** Silence counted for the quiet wire since the caller's last speech, ms (not on the media clock). */
  private quietWireMs = 0;
  private timer: Timer | null = null;
  /** Inbound audio the VAD has processed, ms: the media clock segmenter events refer to. */
  audioMs = 0;

  constructor(
    private readonly vad: VadStream,
    private readonly config: SegmenterConfig,
    private readonly hooks: AudioIntakeHooks,
    private readonly scheduler: Scheduler,
  ) {
    this.lastFrameAt = scheduler.now();
  }

  push(mulaw: Uint8Array): void {
    if (this.closed) return;
    this.lastFrameAt = this.scheduler.now();
    this.queued++;
    const pcm = decodeMulaw(mulaw);
    this.chain = this.chain
      .then(() => this.vad.process(pcm))
      .then((windows) => {
        this.queued--;
        if (this.closed) return;
        this.hooks.onFrame(mulaw);
        this.audioMs += mulaw.length / 8;
        for (const window of windows) {
          this.apply(segment(this.segmenter, window, this.config));
          if (this.segmenter.speaking && this.segmenter.silenceMs === 0) this.quietWireMs = 0;
        }
        this.watch();
      })
      .catch((error: unknown) => {
        this.queued = Math.max(0, this.queued - 1);
        if (!this.closed) this.hooks.onError(error);
      });
  }

  /** End the caller's current pause after `silenceMs` of silence (at once if already reached). */
  endTurnAfter(silenceMs: number): void {
    if (this.closed) return;
    this.creditQuietWire();
    this.apply(endTurnAfter(this.segmenter, silenceMs));
    this.timer?.cancel();
    this.timer = null;
    this.watch();
  }

  /** The caller spoke and has been silent for at least `ms` since (their words so far are all there is). */
  pausedFor(ms: number): boolean {
    return this.segmenter.speaking && this.silenceNowMs() >= ms;
  }

  /** Where the caller's last word ended on the media clock, given the silence a speech-end reported. */
  speechEndAudioMs(trailingMs: number): number {
    return Math.max(0, this.audioMs + this.quietWireMs - trailingMs);
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    this.vad.close();
  }

  private apply([next, events]: [SegmenterState, SegmenterEvent[]]): void {
    this.segmenter = next;
    for (const event of events) this.hooks.onEvent(event);
  }

  /** Silence so far, counting a quiet wire not yet credited. */
  private silenceNowMs(): number {
    return this.segmenter.silenceMs + this.uncreditedQuietMs();
  }

  private uncreditedQuietMs(): number {
    if (this.queued > 0) return 0;
    const now = this.scheduler.now();
    if (now - this.lastFrameAt < QUIET_WIRE_MS) return 0;
    return Math.max(0, now - Math.max(this.lastFrameAt, this.creditedUntil));
  }

  /** Count the time the wire has been quiet as silence (only once the caller has spoken). */
  private creditQuietWire(): void {
    if (!this.segmenter.speaking) return;
    const quiet = this.uncreditedQuietMs();
    if (quiet <= 0) return;
    this.creditedUntil = this.scheduler.now();
    this.quietWireMs += quiet;
    this.apply(segment(this.segmenter, { probability: 0, durationMs: quiet }, this.config));
  }

  /** While the caller is speaking or pausing, wake up when their silence would next matter. */
  private watch(): void {
    if (this.closed || !this.segmenter.speaking) {
      this.timer?.cancel();
      this.timer = null;
      return;
    }
    if (this.timer) return;
    const state = this.segmenter;
    const endAt = state.endAfterMs ?? this.config.endSilenceMs;
    const pauseAt = this.config.pauseMs !== undefined && state.silenceMs < this.config.pauseMs ? this.config.pauseMs : endAt;
    // Due when the silence would reach the next threshold if the wire stayed quiet from the last frame.
    const now = this.scheduler.now();
    const uncounted = now - Math.max(this.lastFrameAt, this.creditedUntil);
    const dueMs = Math.max(QUIET_WIRE_MS - (now - this.lastFrameAt), Math.min(pauseAt, endAt) - state.silenceMs - uncounted, 10);
    this.timer = this.scheduler.after(dueMs, () => {
      this.timer = null;
      if (this.closed) return;
      this.creditQuietWire();
      this.watch();
    });
  }
}
