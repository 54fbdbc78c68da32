/**
 * The reply path's filler (issue 10): said by the offline voice when the brain is still silent at
 * the due time, never overlapping or repeating the brain's words, cancelled with the reply. The
 * filler's timer is driven by the test (no wall-clock timing).
 */
import { describe, expect, it } from 'vitest';
import { Playout, type PlayoutSink } from '../../../src/media/playout.js';
import type { BrainEvent } from '../../../src/dialog/brain.js';
import { fillerForTurn, runReply, type ReplyFiller } from '../../../src/dialog/reply-runner.js';
import type { TextToSpeech, TtsChunk, TtsStreamOptions } from '../../../src/speech/tts.js';
import { AsyncQueue } from '../../../src/util/async-queue.js';

const FILLERS = ['One moment.', 'Let me check.'];
const MAIN_BYTE = 0x11;
const FILLER_BYTE = 0x22;

/** Renders each piece as 40 ms of one byte value; `hold` keeps a piece's audio back until released. */
class FakeVoice implements TextToSpeech {
  readonly said: string[] = [];
  private readonly held = new Map<string, Promise<void>>();
  constructor(readonly name: string, private readonly byte: number) {}

  hold(text: string): () => void {
    let release!: () => void;
    this.held.set(text, new Promise<void>((resolve) => (release = resolve)));
    return release;
  }

  async *stream({ text, signal }: TtsStreamOptions): AsyncIterable<TtsChunk> {
    for await (const piece of text) {
      await this.held.get(piece.trim());
      if (signal.aborted) return;
      this.said.push(piece.trim());
      yield { audio: new Uint8Array(320).fill(this.byte), text: piece };
    }
  }
}

/** Records the outbound audio by voice and echoes marks (everything plays at once). */
function setup(fillerOverrides: Partial<ReplyFiller> = {}) {
  const order: string[] = [];
  let playout!: Playout;
  const sink: PlayoutSink = {
    sendMedia: (audio) => {
      const voice = audio[0] === FILLER_BYTE ? 'filler' : 'main';
      if (order.at(-1) !== voice) order.push(voice);
    },
    sendMark: (name) => queueMicrotask(() => playout.onMark(name)),
    sendClear: () => undefined,
  };
  playout = new Playout({ sink, maxLeadMs: 60_000, chunkMs: 20, now: () => 0 });
  const main = new FakeVoice('cloud', MAIN_BYTE);
  const offline = new FakeVoice('offline', FILLER_BYTE);
  const brain = new AsyncQueue<BrainEvent>();
  const controller = new AbortController();
  const timer = new ManualTimer();
  const filler: ReplyFiller = { text: FILLERS[0]!, fillers: FILLERS, tts: offline, afterMs: 700, wait: timer.wait, ...fillerOverrides };
  const run = () => runReply({ playout, tts: main }, brain, controller.signal, {}, filler);
  return { order, main, offline, brain, controller, timer, run };
}

/** The filler's timer, fired by the test. */
class ManualTimer {
  asked: number[] = [];
  cancelled = false;
  private due: ((value: boolean) => void) | null = null;
  wait = (ms: number, signal: AbortSignal): Promise<boolean> => {
    this.asked.push(ms);
    return new Promise((resolve) => {
      this.due = resolve;
      signal.addEventListener('abort', () => {
        this.cancelled = true;
        resolve(false);
      });
    });
  };
  fire(): void {
    this.due?.(true);
  }
}

const tick = () => new Promise((r) => setImmediate(r));
const text = (t: string): BrainEvent => ({ type: 'text', text: t });

describe('reply filler', () => {
  it('a silent brain at the due time: the filler plays first, the answer after it', async () => {
    const { order, offline, brain, timer, run } = setup();
    const reply = run();
    await tick();
    expect(timer.asked).toEqual([700]);
    timer.fire();
    await tick();
    brain.push(text('What day would you like?'));
    brain.end();
    const result = await reply;
    expect(offline.said).toEqual(['One moment.']);
    expect(order).toEqual(['filler', 'main']);
    expect(result).toMatchObject({ outcome: 'played', text: 'One moment. What day would you like?' });
  });

  it('brain words before the due time: no filler, and the timer is cancelled', async () => {
    const { order, offline, brain, timer, run } = setup();
    const reply = run();
    brain.push(text('What day would you like?'));
    await tick();
    expect(timer.cancelled).toBe(true);
    timer.fire(); // too late: already decided
    brain.end();
    const result = await reply;
    expect(offline.said).toEqual([]);
    expect(order).toEqual(['main']);
    expect(result.text).toBe('What day would you like?');
  });

  it('answer audio ready while the filler is still being voiced waits behind it (no overlap)', async () => {
    const { order, offline, brain, timer, run } = setup();
    const release = offline.hold('One moment.');
    const reply = run();
    await tick();
    timer.fire();
    await tick();
    brain.push(text('What day would you like?'));
    brain.end();
    await tick();
    await tick();
    expect(order).toEqual([]); // the answer is rendered but held behind the filler
    release();
    await reply;
    expect(order).toEqual(['filler', 'main']);
  });

  it("the brain's own filler right after ours is not said again", async () => {
    const { main, brain, timer, run } = setup();
    const reply = run();
    await tick();
    timer.fire();
    await tick();
    brain.push(text('One moment. '));
    brain.push(text('What day would you like? '));
    brain.push(text('One moment. '));
    brain.end();
    const result = await reply;
    // Only before real words: a filler later in the reply is the brain's to say.
    expect(main.said).toEqual(['What day would you like?', 'One moment.']);
    expect(result.text).toBe('One moment. What day would you like? One moment.');
  });

  it('a barge-in or hang-up before the due time cancels the filler', async () => {
    const { order, offline, brain, controller, timer, run } = setup();
    const reply = run();
    await tick();
    controller.abort();
    timer.fire();
    brain.end();
    const result = await reply;
    expect(timer.cancelled).toBe(true);
    expect(offline.said).toEqual([]);
    expect(order).toEqual([]);
    expect(result.outcome).toBe('aborted');
  });

  it('an abort while the filler is being voiced stops it', async () => {
    const { order, offline, brain, controller, timer, run } = setup();
    const release = offline.hold('One moment.');
    const reply = run();
    await tick();
    timer.fire();
    await tick();
    controller.abort();
    release();
    brain.end();
    const result = await reply;
    expect(offline.said).toEqual([]);
    expect(order).toEqual([]);
    expect(result.outcome).toBe('aborted');
  });

  it('a failing filler voice is reported and the answer still plays', async () => {
    const errors: unknown[] = [];
    const broken: TextToSpeech = {
      name: 'broken',
      // eslint-disable-next-line require-yield
      async *stream() {
        throw new Error('flite crashed');
      },
    };
    const { order, brain, timer, run } = setup({ tts: broken, onError: (e) => errors.push(e) });
    const reply = run();
    await tick();
    timer.fire();
    await tick();
    brain.push(text('What day would you like?'));
    brain.end();
    const result = await reply;
    expect(errors).toHaveLength(1);
    expect(order).toEqual(['main']);
    expect(result.outcome).toBe('played');
  });
});

describe('fillerForTurn', () => {
  const voice = new FakeVoice('offline', FILLER_BYTE);
  const base = { turnEndedAtMs: 10_000, nowMs: 10_400, afterMs: 1000, fillers: FILLERS, index: 0, tts: voice };
  it.each([
    ['due 1 s after the last word: 600 ms after a reply that starts 400 ms in', base, 600],
    ['a reply starting after the due time still gives the brain a moment', { ...base, nowMs: 12_000 }, 100],
    ['rotates the sentence by turn', { ...base, index: 3 }, 600],
  ])('%s', (_name, options, afterMs) => {
    const filler = fillerForTurn(options)!;
    expect(filler.afterMs).toBe(afterMs);
    expect(filler.text).toBe(FILLERS[options.index % FILLERS.length]);
    expect(filler.tts).toBe(voice);
  });

  it.each([
    ['nobody is waiting (greeting, reprompt)', { ...base, turnEndedAtMs: undefined }],
    ['no offline voice', { ...base, tts: undefined }],
    ['no filler sentences', { ...base, fillers: [] }],
    ['fillers switched off', { ...base, afterMs: 0 }],
  ])('none when %s', (_name, options) => {
    expect(fillerForTurn(options)).toBeUndefined();
  });
});
