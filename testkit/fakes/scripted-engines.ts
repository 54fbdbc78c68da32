/**
 * Hand-written test doubles of the stage interfaces: deterministic, instant, and observable
 * (they record what they were asked and whether their work was aborted).
 */
import type { Brain, BrainEvent, BrainInput, BrainSession, BrainTurnOptions } from '../../src/dialog/brain.js';
import type { CallEngines } from '../../src/dialog/call-engines.js';
import type { Vad, VadStream, VadWindow } from '../../src/media/vad/vad.js';
import type { SpeechToText, SttEvent, SttHints, SttOpenOptions, SttStream } from '../../src/speech/stt.js';
import type { TextToSpeech, TtsChunk, TtsStreamOptions } from '../../src/speech/tts.js';

/** Loud frames are speech: one 20 ms window per 160 samples. */
export class AmplitudeVad implements Vad {
  readonly name = 'test-amplitude';
  streamsOpen = 0;
  createStream(): VadStream {
    this.streamsOpen++;
    let closed = false;
    return {
      process: async (pcm: Int16Array): Promise<VadWindow[]> => {
        const windows: VadWindow[] = [];
        for (let i = 0; i + 160 <= pcm.length; i += 160) {
          let sum = 0;
          for (let j = i; j < i + 160; j++) sum += Math.abs(pcm[j]!);
          windows.push({ probability: sum / 160 > 1000 ? 1 : 0, durationMs: 20 });
        }
        return windows;
      },
      close: () => {
        if (!closed) this.streamsOpen--;
        closed = true;
      },
    };
  }
}

/** Returns scripted transcripts, one per utterance, in order. */
export class ScriptedStt implements SpeechToText {
  readonly name = 'test-stt';
  readonly hintsSeen: SttHints[] = [];
  streamsOpen = 0;
  constructor(private readonly transcripts: string[]) {}
  open(options: SttOpenOptions): SttStream {
    this.streamsOpen++;
    let closed = false;
    let speaking = false;
    const emit = (e: SttEvent) => options.onEvent(e);
    const close = () => {
      if (!closed) this.streamsOpen--;
      closed = true;
    };
    options.signal.addEventListener('abort', close, { once: true });
    return {
      write: () => undefined,
      speechStarted: () => {
        speaking = true;
      },
      speechEnded: () => {
        if (!speaking || closed) return;
        speaking = false;
        const text = this.transcripts.shift() ?? '';
        queueMicrotask(() => !closed && emit({ type: 'transcript-final', text, confidence: 0.9, endOfTurn: true, sttMs: 5 }));
      },
      setHints: (hints) => this.hintsSeen.push(hints),
      close,
    };
  }
}

/**
 * `msPerWord` of (non-silent) audio per word, in 20 ms chunks, each taking `chunkDelayMs` to
 * "synthesize", like a streaming synthesizer that runs faster than real time.
 */
export class WordLengthTts implements TextToSpeech {
  readonly name = 'test-tts';
  readonly spoken: string[] = [];
  aborted = 0;
  constructor(
    private readonly msPerWord = 60,
    private readonly chunkDelayMs = 0,
  ) {}
  async *stream(options: TtsStreamOptions): AsyncIterable<TtsChunk> {
    try {
      for await (const text of options.text) {
        if (options.signal.aborted) return;
        this.spoken.push(text);
        const bytes = text.split(/\s+/).filter(Boolean).length * this.msPerWord * 8;
        for (let sent = 0; sent < bytes; sent += 160) {
          await new Promise((r) => (this.chunkDelayMs ? setTimeout(r, this.chunkDelayMs) : setImmediate(r)));
          if (options.signal.aborted) return;
          yield { audio: new Uint8Array(Math.min(160, bytes - sent)).fill(0x2a), text };
        }
      }
    } finally {
      if (options.signal.aborted) this.aborted++;
    }
  }
}

export type ScriptedReply = (input: BrainInput) => BrainEvent[];

/** Replies from a function of the input; records inputs and aborted turns. */
export class ScriptedBrain implements Brain {
  readonly name = 'test-brain';
  readonly inputs: BrainInput[] = [];
  readonly interruptions: string[] = [];
  abortedTurns = 0;
  constructor(private readonly reply: ScriptedReply) {}
  createSession(): BrainSession {
    return {
      turn: (input, options) => this.turn(input, options),
      interrupted: (heard) => this.interruptions.push(heard),
    };
  }
  private async *turn(input: BrainInput, options: BrainTurnOptions): AsyncIterable<BrainEvent> {
    this.inputs.push(input);
    const onAbort = () => this.abortedTurns++;
    options.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (const event of this.reply(input)) {
        if (options.signal.aborted) return;
        yield event;
      }
    } finally {
      options.signal.removeEventListener('abort', onAbort);
    }
  }
}

export function scriptedEngines(overrides: Partial<CallEngines> = {}): CallEngines {
  return {
    vad: new AmplitudeVad(),
    stt: new ScriptedStt([]),
    tts: new WordLengthTts(),
    brain: new ScriptedBrain(() => [{ type: 'text', text: 'Hello.' }]),
    ...overrides,
  };
}
