/**
 * Runs one agent reply: brain events → sentence pieces → TTS → playout, all under one AbortSignal.
 * Reports stage timings and what the brain did; the session decides what it means.
 *
 * A reply to a caller who is waiting can carry a filler (issue 10): if the brain has said nothing
 * when it is due, the offline voice says it (that voice works when the cloud ones are failing), and
 * the brain's audio queues behind it, so the two never overlap. A filler sentence the brain says
 * itself before its first real words is then dropped, so the caller never hears two in a row.
 */
import type { Playout, UtteranceOutcome } from '../media/playout.js';
import type { TextToSpeech, TtsChunk } from '../speech/tts.js';
import { raceAbort, sleepUnlessAborted } from '../util/abort.js';
import { AsyncQueue } from '../util/async-queue.js';
import type { BrainEvent } from './brain.js';
import { SentenceChunker } from './sentence-chunker.js';

export interface ReplyHooks {
  /** The playout utterance this reply plays as. */
  onUtterance?(utteranceId: number): void;
  /** First reply text from the brain. */
  onFirstText?(): void;
  /** First synthesized audio byte. */
  onFirstAudioChunk?(): void;
  /** All of the reply's audio is with the playout; only playback remains. */
  onAudioComplete?(utteranceId: number): void;
  /** A piece of text was handed to the voice (for usage accounting). */
  onSpeak?(piece: string): void;
  /** Every non-text brain event, in order. */
  onBrainEvent?(event: Exclude<BrainEvent, { type: 'text' }>): void;
}

export interface ReplyResult {
  utteranceId: number;
  text: string;
  outcome: UtteranceOutcome | 'aborted';
}

export interface ReplyRunnerDeps {
  playout: Playout;
  tts: TextToSpeech;
}

export interface ReplyFiller {
  /** The sentence to say. */
  text: string;
  /** Every configured filler sentence: the brain's own one, after ours, is not said. */
  fillers: readonly string[];
  /** The offline voice. */
  tts: TextToSpeech;
  /** Due this long after the reply starts, ms. */
  afterMs: number;
  /** The timer (tests drive it): resolves true when due, false once the signal aborted. */
  wait?: (ms: number, signal: AbortSignal) => Promise<boolean>;
  /** The filler's voice failed: the reply goes on without it. */
  onError?: (error: unknown) => void;
}

/**
 * Plays `events` (a brain turn, or fixed text) as one utterance. Resolves when the audio was played
 * through, cleared, or the signal aborted. Rejects only on a brain or TTS failure.
 */
export async function runReply(
  deps: ReplyRunnerDeps,
  events: AsyncIterable<BrainEvent>,
  signal: AbortSignal,
  hooks: ReplyHooks = {},
  filler?: ReplyFiller,
): Promise<ReplyResult> {
  const { playout, tts } = deps;
  const utteranceId = playout.begin();
  hooks.onUtterance?.(utteranceId);
  let sawText = false;
  let sawAudio = false;
  const append = (chunk: { audio: Uint8Array; text: string }) => {
    if (!sawAudio) {
      sawAudio = true;
      hooks.onFirstAudioChunk?.();
    }
    playout.append(utteranceId, chunk.audio, chunk.text);
  };
  const fill = filler ? scheduleFiller(filler, signal, () => !sawText, append) : null;
  const pieces = new AsyncQueue<string>();
  const words = new ReplyWords(pieces, hooks, filler, fill);
  const synth = synthesize(tts, pieces, signal, fill, append);
  // If synthesis fails we must stop feeding it, but the brain loop below learns of it through `synth`.
  synth.catch(() => pieces.end());
  const finished = async () => {
    fill?.cancel();
    await fill?.played;
    return words.text();
  };
  const onFirstText = () => {
    sawText = true;
    fill?.cancel();
    hooks.onFirstText?.();
  };

  try {
    await feedBrain(events, signal, hooks, words, onFirstText);
  } catch (error) {
    pieces.end();
    await synth.catch(() => undefined);
    const text = await finished();
    playout.finish(utteranceId);
    if (signal.aborted) return { utteranceId, text, outcome: 'aborted' };
    throw error;
  }
  pieces.end();
  const text = await finished();
  try {
    await synth;
  } catch (error) {
    if (!signal.aborted) {
      void playout.finish(utteranceId);
      throw error;
    }
  }
  if (signal.aborted) {
    void playout.finish(utteranceId);
    return { utteranceId, text, outcome: 'aborted' };
  }
  const played = playout.finish(utteranceId);
  hooks.onAudioComplete?.(utteranceId);
  const raced = await raceAbort(played, signal);
  return { utteranceId, text, outcome: raced.aborted ? 'aborted' : raced.value };
}

/** Brain events into words (text) and hooks (the rest), until the turn ends or the signal aborts. */
async function feedBrain(events: AsyncIterable<BrainEvent>, signal: AbortSignal, hooks: ReplyHooks, words: ReplyWords, onFirstText: () => void): Promise<void> {
  let sawText = false;
  for await (const event of events) {
    if (signal.aborted) return;
    if (event.type !== 'text') {
      hooks.onBrainEvent?.(event);
      continue;
    }
    if (!event.text) continue;
    if (!sawText) {
      sawText = true;
      onFirstText();
    }
    words.push(event.text);
  }
  if (!signal.aborted) words.flush();
}

/** The reply's voice: its audio goes to `append`, behind the filler's audio, never interleaved with it. */
async function synthesize(tts: TextToSpeech, pieces: AsyncQueue<string>, signal: AbortSignal, fill: ScheduledFiller | null, append: (chunk: TtsChunk) => void): Promise<void> {
  for await (const chunk of tts.stream({ text: pieces, signal })) {
    if (fill) await fill.played;
    if (signal.aborted) return;
    append(chunk);
  }
}

/** The reply's words: cut into pieces for the voice, and what the reply said (with our filler first). */
class ReplyWords {
  private readonly chunker = new SentenceChunker();
  private readonly spoken: string[] = [];
  private realWords = false;

  constructor(
    private readonly pieces: AsyncQueue<string>,
    private readonly hooks: ReplyHooks,
    private readonly filler: ReplyFiller | undefined,
    private readonly fill: ScheduledFiller | null,
  ) {}

  push(text: string): void {
    this.say(this.chunker.push(text));
  }

  flush(): void {
    this.say(this.chunker.flush());
  }

  text(): string {
    return this.fill?.said ? [this.filler!.text, ...this.spoken].join(' ') : this.spoken.join(' ');
  }

  private say(list: string[]): void {
    for (const piece of list) {
      // The caller just heard our filler: the brain's own filler would be the same words again.
      if (!this.realWords && this.fill?.said && this.filler!.fillers.includes(piece.trim())) continue;
      this.realWords = true;
      this.spoken.push(piece);
      this.hooks.onSpeak?.(piece);
      this.pieces.push(piece);
    }
  }
}

interface ScheduledFiller {
  /** The filler started (its text is part of the reply). */
  readonly said: boolean;
  /** Settles once the filler's audio is with the playout (at once when it never started). */
  readonly played: Promise<void>;
  /** No filler after all (the brain spoke, or the reply ended); one already started plays on. */
  cancel(): void;
}

/**
 * A filler that brings something to the caller's ear `afterMs` after their last word (`turnEndedAtMs`,
 * on the `nowMs` clock), or undefined when there is no voice, no filler text, or fillers are off.
 * A reply that starts late still gives the brain a moment (`MIN_FILLER_DELAY_MS`): a brain with its
 * answer at hand speaks that instead.
 */
export function fillerForTurn(options: {
  turnEndedAtMs: number | undefined;
  nowMs: number;
  afterMs: number;
  fillers: readonly string[];
  /** Rotates the sentence across turns. */
  index: number;
  tts: TextToSpeech | undefined;
  onError?: (error: unknown) => void;
}): ReplyFiller | undefined {
  const { turnEndedAtMs, fillers, tts } = options;
  if (turnEndedAtMs === undefined || !tts || fillers.length === 0 || options.afterMs <= 0) return undefined;
  return {
    text: fillers[options.index % fillers.length]!,
    fillers,
    tts,
    afterMs: Math.max(MIN_FILLER_DELAY_MS, turnEndedAtMs + options.afterMs - options.nowMs),
    ...(options.onError ? { onError: options.onError } : {}),
  };
}

const MIN_FILLER_DELAY_MS = 100;

/** Arms the filler timer; when it fires and `stillSilent()`, the filler's audio goes to `append`. */
function scheduleFiller(
  filler: ReplyFiller,
  signal: AbortSignal,
  stillSilent: () => boolean,
  append: (chunk: { audio: Uint8Array; text: string }) => void,
): ScheduledFiller {
  const timer = new AbortController();
  const wait = filler.wait ?? sleepUnlessAborted;
  const state = { said: false, played: Promise.resolve(), cancel: () => timer.abort() };
  let release: () => void = () => undefined;
  // Pending while the timer runs, so audio the brain gets in the meantime waits for the decision.
  state.played = new Promise<void>((resolve) => (release = resolve));
  void wait(filler.afterMs, AbortSignal.any([signal, timer.signal])).then(async (due) => {
    if (!due || signal.aborted || timer.signal.aborted || !stillSilent()) return release();
    state.said = true;
    try {
      for await (const chunk of filler.tts.stream({ text: once(filler.text), signal })) {
        if (signal.aborted) break;
        append(chunk);
      }
    } catch (error) {
      if (!signal.aborted) filler.onError?.(error);
    }
    release();
  });
  return state;
}

async function* once(text: string): AsyncIterable<string> {
  yield text;
}


/** Brain events for a fixed line (greeting, goodbye, apology). */
export async function* fixedText(text: string): AsyncIterable<BrainEvent> {
  yield { type: 'text', text };
}
