/**
 * Text-to-speech with a backup voice: a reply starts on the primary engine (a cloud voice); if it
 * fails before or during the reply, the pieces not yet rendered are spoken by the backup (the
 * offline voice). The caller hears a different voice, never silence. One per call: each switch is
 * reported to that call's FallbackListener.
 *
 * A primary that hangs instead of failing counts as failed once a reply's first piece has had no
 * audio for `firstAudioMs`; after a failure the next replies go straight to the backup for
 * `coolDownMs`, so one outage costs the caller one wait, not one per reply (issue 10: the answer
 * within 3 s of the caller's turn while the cloud voice is down). Then the primary is tried again.
 */
import type { FallbackListener } from '../observability/fallback.js';
import { AsyncQueue } from '../util/async-queue.js';
import type { TextToSpeech, TtsChunk, TtsStreamOptions } from './tts.js';

export interface FallbackTtsOptions {
  /** Longest wait for the primary's first audio of a reply once it has text, ms. */
  firstAudioMs?: number;
  /** After a primary failure, replies use the backup alone for this long, ms. */
  coolDownMs?: number;
  /** Monotonic clock, ms (tests drive it). */
  now?: () => number;
}

export class FallbackTts implements TextToSpeech {
  readonly name: string;
  private readonly firstAudioMs: number;
  private readonly coolDownMs: number;
  private readonly now: () => number;
  /** The primary failed; until this time replies go to the backup. */
  private backupUntil = -Infinity;

  constructor(
    private readonly primary: TextToSpeech,
    private readonly backup: TextToSpeech,
    private readonly onFallback: FallbackListener,
    options: FallbackTtsOptions = {},
  ) {
    this.name = primary.name;
    this.firstAudioMs = options.firstAudioMs ?? 1500;
    this.coolDownMs = options.coolDownMs ?? 30_000;
    this.now = options.now ?? (() => performance.now());
  }

  async *stream(options: TtsStreamOptions): AsyncIterable<TtsChunk> {
    if (this.now() < this.backupUntil) {
      yield* this.backup.stream(options);
      return;
    }
    // Pieces go to whichever engine is current; they are kept until their audio has started, so
    // on a failure the backup knows exactly what is left to say.
    const pending: string[] = [];
    let target = new AsyncQueue<string>();
    const toPrimary = target;
    let sourceDone = false;
    const hang = new HangWatch(this.firstAudioMs);
    const pump = (async () => {
      for await (const piece of options.text) {
        pending.push(piece);
        if (target === toPrimary) hang.arm();
        target.push(piece);
      }
      sourceDone = true;
      target.end();
    })();
    pump.catch((error: unknown) => target.fail(error));

    let failure: unknown = null;
    try {
      const signal = AbortSignal.any([options.signal, hang.signal]);
      for await (const chunk of this.primary.stream({ text: toPrimary, signal })) {
        hang.disarm();
        // Audio for a piece means everything before it has been spoken by the primary.
        while (pending.length > 0 && pending[0] !== chunk.text) pending.shift();
        yield chunk;
      }
      if (!hang.tripped) return;
      failure = hang.error;
    } catch (error) {
      if (options.signal.aborted) return;
      failure = hang.tripped ? hang.error : error;
    } finally {
      hang.disarm();
    }

    this.backupUntil = this.now() + this.coolDownMs;
    const reason = failure instanceof Error ? failure.message : String(failure);
    this.onFallback({ stage: 'tts', from: this.primary.name, to: this.backup.name, reason });
    const rest = new AsyncQueue<string>();
    for (const piece of pending) rest.push(piece);
    if (sourceDone) rest.end();
    target = rest; // the pump hands the brain's later pieces (and the end) to the backup
    toPrimary.end();
    yield* this.backup.stream({ text: rest, signal: options.signal });
  }

  async warm(texts: readonly string[], signal?: AbortSignal): Promise<void> {
    await Promise.all([this.primary.warm?.(texts, signal), this.backup.warm?.(texts, signal)]);
  }
}

/** Trips (aborting its signal) when text waited `ms` for the primary's first audio. */
class HangWatch {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private armed = false;
  readonly error: Error;

  constructor(private readonly ms: number) {
    this.error = new Error(`no audio within ${ms} ms`);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get tripped(): boolean {
    return this.controller.signal.aborted;
  }

  /** Text reached the primary: from the first piece on, audio must follow within `ms`. */
  arm(): void {
    if (this.armed) return;
    this.armed = true;
    this.timer = setTimeout(() => this.controller.abort(this.error), this.ms);
  }

  /** Audio came (or the reply is over): no more watching. */
  disarm(): void {
    this.armed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
