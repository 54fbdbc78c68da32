/**
 * Text-to-speech with a backup voice: a reply starts on the primary engine (a cloud voice); if it
 * fails before or during the reply, the pieces not yet rendered are spoken by the backup (the
 * offline voice). The caller hears a different voice, never silence. One per call: each switch is
 * reported to that call's FallbackListener.
 */
import type { FallbackListener } from '../observability/fallback.js';
import { AsyncQueue } from '../util/async-queue.js';
import type { TextToSpeech, TtsChunk, TtsStreamOptions } from './tts.js';

export class FallbackTts implements TextToSpeech {
  readonly name: string;

  constructor(
    private readonly primary: TextToSpeech,
    private readonly backup: TextToSpeech,
    private readonly onFallback: FallbackListener,
  ) {
    this.name = primary.name;
  }

  async *stream(options: TtsStreamOptions): AsyncIterable<TtsChunk> {
    // Pieces go to whichever engine is current; they are kept until their audio has started, so
    // on a failure the backup knows exactly what is left to say.
    const pending: string[] = [];
    let target = new AsyncQueue<string>();
    const toPrimary = target;
    let sourceDone = false;
    const pump = (async () => {
      for await (const piece of options.text) {
        pending.push(piece);
        target.push(piece);
      }
      sourceDone = true;
      target.end();
    })();
    pump.catch((error: unknown) => target.fail(error));

    let failure: unknown = null;
    try {
      for await (const chunk of this.primary.stream({ text: toPrimary, signal: options.signal })) {
        // Audio for a piece means everything before it has been spoken by the primary.
        while (pending.length > 0 && pending[0] !== chunk.text) pending.shift();
        yield chunk;
      }
      return;
    } catch (error) {
      if (options.signal.aborted) return;
      failure = error;
    }

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
