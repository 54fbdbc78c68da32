/**
 * The backup voice (src/speech/fallback-tts.ts): a failing or hanging primary hands what is left of
 * the reply to the backup, and later replies skip the primary while it cools down. Timers and the
 * clock are driven by the test.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FallbackEvent } from '../../../src/observability/fallback.js';
import { FallbackTts } from '../../../src/speech/fallback-tts.js';
import type { TextToSpeech, TtsChunk, TtsStreamOptions } from '../../../src/speech/tts.js';

type Behaviour = 'ok' | { failAfter: number } | 'hang';

class Voice implements TextToSpeech {
  readonly said: string[] = [];
  streams = 0;
  constructor(readonly name: string, public behaviour: Behaviour = 'ok') {}
  async *stream({ text, signal }: TtsStreamOptions): AsyncIterable<TtsChunk> {
    this.streams++;
    for await (const piece of text) {
      if (signal.aborted) return;
      const b = this.behaviour;
      if (b === 'hang') {
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        return; // a well-behaved engine ends quietly on abort
      }
      if (typeof b === 'object' && this.said.length >= b.failAfter) throw new Error('socket dropped');
      this.said.push(piece);
      yield { audio: new Uint8Array(8), text: piece };
    }
  }
}

async function* pieces(...list: string[]): AsyncIterable<string> {
  for (const p of list) yield p;
}

async function speak(tts: TextToSpeech, list: string[], signal = new AbortController().signal): Promise<string[]> {
  const heard: string[] = [];
  for await (const chunk of tts.stream({ text: pieces(...list), signal })) heard.push(chunk.text);
  return heard;
}

let clock = 0;
let events: FallbackEvent[];
beforeEach(() => {
  clock = 0;
  events = [];
});
afterEach(() => vi.useRealTimers());

const setup = (primaryBehaviour: Behaviour) => {
  const primary = new Voice('cloud', primaryBehaviour);
  const backup = new Voice('offline');
  const tts = new FallbackTts(primary, backup, (e) => events.push(e), { firstAudioMs: 1500, coolDownMs: 30_000, now: () => clock });
  return { primary, backup, tts };
};

describe('FallbackTts', () => {
  it('a primary that fails mid-reply: the backup says what was not rendered yet, from the piece it was on', async () => {
    const { primary, backup, tts } = setup({ failAfter: 1 });
    // The piece whose audio had started may have been cut: the backup says it again.
    expect(await speak(tts, ['One.', 'Two.', 'Three.'])).toEqual(['One.', 'One.', 'Two.', 'Three.']);
    expect(primary.said).toEqual(['One.']);
    expect(backup.said).toEqual(['One.', 'Two.', 'Three.']);
    expect(events).toMatchObject([{ stage: 'tts', from: 'cloud', to: 'offline', reason: 'socket dropped' }]);
  });

  it('a primary that hangs counts as failed after firstAudioMs, and the backup says the whole reply', async () => {
    vi.useFakeTimers();
    const { backup, tts } = setup('hang');
    const reply = speak(tts, ['What day would you like?']);
    await vi.advanceTimersByTimeAsync(1499);
    expect(backup.said).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await reply).toEqual(['What day would you like?']);
    expect(events).toMatchObject([{ reason: 'no audio within 1500 ms' }]);
  });

  it('after a failure, replies skip the primary while it cools down, then try it again', async () => {
    const { primary, backup, tts } = setup({ failAfter: 0 });
    await speak(tts, ['Hello.']);
    expect(primary.streams).toBe(1);
    clock = 29_999;
    expect(await speak(tts, ['Still down?'])).toEqual(['Still down?']);
    expect(primary.streams).toBe(1);
    expect(backup.said).toEqual(['Hello.', 'Still down?']);
    expect(events).toHaveLength(1); // one outage, one report
    primary.behaviour = 'ok';
    clock = 30_001;
    await speak(tts, ['Back.']);
    expect(primary.said).toEqual(['Back.']);
  });

  it('an abort (barge-in) is not a failure: no backup, no report', async () => {
    const { backup, tts } = setup('hang');
    const controller = new AbortController();
    const reply = speak(tts, ['Hello.'], controller.signal);
    setTimeout(() => controller.abort(), 10);
    expect(await reply).toEqual([]);
    expect(backup.said).toEqual([]);
    expect(events).toEqual([]);
  });
});
