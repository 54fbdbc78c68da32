import { describe, expect, it } from 'vitest';
import { chunkAudio, FliteTts, normaliseTtsText, splitSentences } from '../../../src/speech/flite-tts.js';
import type { TtsChunk } from '../../../src/speech/tts.js';
import { mulawToPcm16 } from '../../../src/speech/audio-convert.js';
import { childPids, waitFor } from '../../../testkit/helpers/process.js';

async function* texts(...items: string[]): AsyncIterable<string> {
  for (const item of items) yield item;
}

async function collect(iterable: AsyncIterable<TtsChunk>): Promise<TtsChunk[]> {
  const out: TtsChunk[] = [];
  for await (const chunk of iterable) out.push(chunk);
  return out;
}

const seconds = (chunks: TtsChunk[], text?: string) =>
  chunks.filter((c) => text === undefined || c.text === text).reduce((n, c) => n + c.audio.length, 0) / 8000;

/** Counts real synthesis runs, so cache hits are observable without timing. */
class CountingFlite extends FliteTts {
  runs: string[] = [];
  override synthesize(text: string, signal?: AbortSignal): Promise<Uint8Array> {
    this.runs.push(text);
    return super.synthesize(text, signal);
  }
}

describe('pure helpers', () => {
  it.each([
    { input: '  Hello   there\n', output: 'Hello there' },
    { input: '', output: '' },
    { input: '\t', output: '' },
  ])('normaliseTtsText($input)', ({ input, output }) => expect(normaliseTtsText(input)).toBe(output));

  it.each([
    { input: 'Hello.', output: ['Hello.'] },
    { input: 'Thanks for calling. Your visit is at 3 p.m. on Tuesday.', output: ['Thanks for calling.', 'Your visit is at 3 p.m. on Tuesday.'] },
    { input: 'Really? Yes! 5 left.', output: ['Really?', 'Yes!', '5 left.'] },
    { input: 'It costs 3.50 dollars', output: ['It costs 3.50 dollars'] },
  ])('splitSentences($input)', ({ input, output }) => expect(splitSentences(input)).toEqual(output));

  it.each([
    { length: 0, size: 4, lengths: [] },
    { length: 4, size: 4, lengths: [4] },
    { length: 9, size: 4, lengths: [4, 4, 1] },
  ])('chunkAudio($length by $size)', ({ length, size, lengths }) => {
    expect(chunkAudio(new Uint8Array(length), size).map((c) => c.length)).toEqual(lengths);
  });
});

describe('FliteTts', () => {
  it('renders each text item as μ-law of plausible duration, tagged with its text', async () => {
    const tts = new FliteTts();
    expect(tts.name).toBe('flite:kal');
    const a = 'Thanks for calling. Your appointment is confirmed for Tuesday at three p m.';
    const b = 'Goodbye.';
    const chunks = await collect(tts.stream({ text: texts(a, '   ', b), signal: new AbortController().signal }));
    expect(chunks.map((c) => c.text).filter((t, i, all) => all.indexOf(t) === i)).toEqual([a, b]);
    expect(seconds(chunks, a)).toBeGreaterThan(2.5);
    expect(seconds(chunks, a)).toBeLessThan(9);
    expect(seconds(chunks, b)).toBeGreaterThan(0.2);
    expect(seconds(chunks, b)).toBeLessThan(3);
    // Not silence: decoded samples have real energy.
    const pcm = mulawToPcm16(chunks[0]!.audio);
    expect(Math.max(...Array.from(pcm, Math.abs))).toBeGreaterThan(1000);
  });

  it('supports a 16 kHz voice (decimated to 8 kHz)', async () => {
    const tts = new FliteTts({ voice: 'slt' });
    const audio = await tts.synthesize('Hello there.');
    expect(audio.length / 8000).toBeGreaterThan(0.4);
    expect(audio.length / 8000).toBeLessThan(3);
  });

  it('serves warmed prompts from memory', async () => {
    const tts = new CountingFlite({ lruSize: 0 });
    await tts.warm(['Welcome to the clinic.', 'Sorry, I did not catch that.']);
    expect(tts.runs).toHaveLength(2);
    expect(tts.isCached('Welcome   to the clinic.')).toBe(true);
    const chunks = await collect(tts.stream({ text: texts('Welcome to the clinic.'), signal: new AbortController().signal }));
    expect(seconds(chunks)).toBeGreaterThan(0.5);
    expect(tts.runs).toHaveLength(2);
  });

  it('keeps repeated sentences in a bounded LRU', async () => {
    const tts = new CountingFlite({ lruSize: 1 });
    const signal = new AbortController().signal;
    await collect(tts.stream({ text: texts('One.', 'One.', 'Two.', 'One.'), signal }));
    expect(tts.runs).toEqual(['One.', 'Two.', 'One.']);
  });

  it('renders a multi-sentence item sentence by sentence, all chunks tagged with the whole item', async () => {
    const tts = new CountingFlite();
    const item = 'Thanks for calling. Your appointment is confirmed.';
    const chunks = await collect(tts.stream({ text: texts(item), signal: new AbortController().signal }));
    expect(tts.runs).toEqual(['Thanks for calling.', 'Your appointment is confirmed.']);
    expect(new Set(chunks.map((c) => c.text))).toEqual(new Set([item]));
  });

  it('stops promptly on abort, killing flite and ignoring a stalled text source', async () => {
    const tts = new FliteTts();
    const controller = new AbortController();
    // Distinct sentences, so flite keeps running (a repeated one would come from the LRU after the
    // first render and the process could be gone before the poll below sees it).
    const long = Array.from({ length: 200 }, (_, i) => `This is sentence number ${i + 1}, and it keeps going.`).join(' ');
    async function* stalled(): AsyncIterable<string> {
      yield long;
      await new Promise(() => {}); // never produces the next sentence
    }
    const run = collect(tts.stream({ text: stalled(), signal: controller.signal }));
    await waitFor(() => childPids('flite').length > 0);
    controller.abort();
    await run; // resolves (no hang) even though the text source never ends
    await waitFor(() => childPids('flite').length === 0);
  });

  it('reports a missing binary as an error', async () => {
    const tts = new FliteTts({ fliteBin: '/nonexistent/flite' });
    await expect(tts.synthesize('hi')).rejects.toThrow(/cannot run/);
  });
});
