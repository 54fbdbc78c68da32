/**
 * Runs one agent reply: brain events → sentence pieces → TTS → playout, all under one AbortSignal.
 * Reports stage timings and what the brain did; the session decides what it means.
 */
import type { Playout, UtteranceOutcome } from '../media/playout.js';
import type { TextToSpeech } from '../speech/tts.js';
import { raceAbort } from '../util/abort.js';
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

/**
 * Plays `events` (a brain turn, or fixed text) as one utterance. Resolves when the audio was played
 * through, cleared, or the signal aborted. Rejects only on a brain or TTS failure.
 */
export async function runReply(
  deps: ReplyRunnerDeps,
  events: AsyncIterable<BrainEvent>,
  signal: AbortSignal,
  hooks: ReplyHooks = {},
): Promise<ReplyResult> {
  const { playout, tts } = deps;
  const utteranceId = playout.begin();
  hooks.onUtterance?.(utteranceId);
  const pieces = new AsyncQueue<string>();
  const chunker = new SentenceChunker();
  const spoken: string[] = [];
  let sawText = false;
  let sawAudio = false;

  const synth = (async () => {
    for await (const chunk of tts.stream({ text: pieces, signal })) {
      if (signal.aborted) return;
      if (!sawAudio) {
        sawAudio = true;
        hooks.onFirstAudioChunk?.();
      }
      playout.append(utteranceId, chunk.audio, chunk.text);
    }
  })();
  // If synthesis fails we must stop feeding it, but the brain loop below learns of it through `synth`.
  synth.catch(() => pieces.end());

  const say = (list: string[]) => {
    for (const piece of list) {
      spoken.push(piece);
      hooks.onSpeak?.(piece);
      pieces.push(piece);
    }
  };

  try {
    for await (const event of events) {
      if (signal.aborted) break;
      if (event.type === 'text') {
        if (!event.text) continue;
        if (!sawText) {
          sawText = true;
          hooks.onFirstText?.();
        }
        say(chunker.push(event.text));
      } else {
        hooks.onBrainEvent?.(event);
      }
    }
    if (!signal.aborted) say(chunker.flush());
  } catch (error) {
    pieces.end();
    await synth.catch(() => undefined);
    playout.finish(utteranceId);
    if (signal.aborted) return { utteranceId, text: spoken.join(' '), outcome: 'aborted' };
    throw error;
  }
  pieces.end();
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
    return { utteranceId, text: spoken.join(' '), outcome: 'aborted' };
  }
  const finished = playout.finish(utteranceId);
  hooks.onAudioComplete?.(utteranceId);
  const raced = await raceAbort(finished, signal);
  const outcome = raced.aborted ? 'aborted' : raced.value;
  return { utteranceId, text: spoken.join(' '), outcome };
}


/** Brain events for a fixed line (greeting, goodbye, apology). */
export async function* fixedText(text: string): AsyncIterable<BrainEvent> {
  yield { type: 'text', text };
}
