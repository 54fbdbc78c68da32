import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ElevenLabsTts, ElevenLabsTtsError, type ElevenLabsTtsOptions } from '../../../src/speech/elevenlabs-tts.js';
import type { FallbackEvent } from '../../../src/observability/fallback.js';
import type { TtsChunk } from '../../../src/speech/tts.js';
import { AsyncQueue } from '../../../src/util/async-queue.js';
import { FakeElevenLabs } from '../../../testkit/fakes/elevenlabs-fake.js';

let fake: FakeElevenLabs;
let adapters: ElevenLabsTts[];
let fallbacks: FallbackEvent[];

beforeEach(async () => {
  fake = await FakeElevenLabs.start({ apiKey: 'secret' });
  adapters = [];
  fallbacks = [];
});

afterEach(async () => {
  await Promise.all(adapters.map((a) => a.close()));
  await fake.stop();
});

function makeTts(overrides: Partial<ElevenLabsTtsOptions> = {}): ElevenLabsTts {
  const tts = new ElevenLabsTts({
    apiKey: 'secret',
    voiceId: 'voice-1',
    baseUrl: fake.baseUrl,
    // Generous: these guard against hangs, they are not what the tests measure.
    firstAudioTimeoutMs: 5_000,
    idleTimeoutMs: 5_000,
    onFallback: (event) => fallbacks.push(event),
    ...overrides,
  });
  adapters.push(tts);
  return tts;
}

async function collect(tts: ElevenLabsTts, pieces: string[], signal = new AbortController().signal): Promise<TtsChunk[]> {
  const text = new AsyncQueue<string>();
  for (const piece of pieces) text.push(piece);
  text.end();
  const chunks: TtsChunk[] = [];
  for await (const chunk of tts.stream({ text, signal })) chunks.push(chunk);
  return chunks;
}

/** Tags in order with repeats collapsed, and audio bytes per tag. */
function summarize(chunks: TtsChunk[]): { order: string[]; bytes: Map<string, number> } {
  const order: string[] = [];
  const bytes = new Map<string, number>();
  for (const chunk of chunks) {
    if (order[order.length - 1] !== chunk.text) order.push(chunk.text);
    bytes.set(chunk.text, (bytes.get(chunk.text) ?? 0) + chunk.audio.length);
    expect(chunk.audio.every((b) => b !== 0xff)).toBe(true);
  }
  return { order, bytes };
}

const A = 'Hello there, thanks for calling the clinic.';
const B = 'How can I help you today?';
const C = 'Bye.';

describe('ElevenLabsTts over the multi-context socket', () => {
  it('renders each piece in order, tagged with its text, over one context', async () => {
    const tts = makeTts();
    expect(tts.name).toBe('elevenlabs:eleven_flash_v2_5');
    const { order, bytes } = summarize(await collect(tts, [A, B, C]));
    expect(order).toEqual([A, B, C]);
    for (const piece of [A, B, C]) expect(bytes.get(piece)).toBe(fake.audioBytesFor(piece));
    expect(fake.connections).toBe(1);
    expect(fake.httpRequests).toHaveLength(0);
    expect(fake.contexts).toHaveLength(1);
    expect(fake.contexts[0]!.texts).toEqual([`${A} `, `${B} `, `${C} `]);
    expect(fake.contexts[0]!.closedByClient).toBe(true);
    expect(fake.contexts[0]!.finalSent).toBe(true);
    const query = fake.socketQueries[0]!;
    expect(query.get('model_id')).toBe('eleven_flash_v2_5');
    expect(query.get('output_format')).toBe('ulaw_8000');
    expect(fallbacks).toEqual([]);
  });

  it('reuses one socket for consecutive turns, one context each', async () => {
    const tts = makeTts();
    expect(summarize(await collect(tts, [A])).order).toEqual([A]);
    expect(summarize(await collect(tts, [B, C])).order).toEqual([B, C]);
    expect(fake.connections).toBe(1);
    expect(fake.contexts.map((c) => c.connection)).toEqual([1, 1]);
    expect(new Set(fake.contexts.map((c) => c.contextId)).size).toBe(2);
  });

  it('on abort closes the context, stops yielding, and keeps the socket for the next turn', async () => {
    fake.latency.perChunkMs = 20;
    const tts = makeTts();
    const turn = new AbortController();
    const text = new AsyncQueue<string>();
    text.push(A);
    text.push(B);
    let afterAbort = 0;
    for await (const chunk of tts.stream({ text, signal: turn.signal })) {
      expect(chunk.text).toBe(A);
      if (turn.signal.aborted) afterAbort++;
      turn.abort();
    }
    expect(afterAbort).toBe(0);
    await vi.waitFor(() => expect(fake.contexts[0]!.closedByClient).toBe(true));
    expect(fake.openSockets).toBe(1);

    fake.latency.perChunkMs = 0;
    expect(summarize(await collect(tts, [C])).order).toEqual([C]);
    expect(fake.connections).toBe(1);
    expect(fake.contexts).toHaveLength(2);
  });

  it('never holds more than five contexts on the socket across many barge-ins', async () => {
    fake.latency.perChunkMs = 5;
    const tts = makeTts();
    for (let i = 0; i < 7; i++) {
      const turn = new AbortController();
      const text = new AsyncQueue<string>();
      text.push(A);
      for await (const _chunk of tts.stream({ text, signal: turn.signal })) turn.abort();
    }
    expect(summarize(await collect(tts, [C])).order).toEqual([C]);
    expect(fallbacks).toEqual([]);
    expect(fake.contexts).toHaveLength(8);
  });

  it('serves a cached prompt between live pieces in its place', async () => {
    const tts = makeTts();
    await tts.warm([B]);
    const { order } = summarize(await collect(tts, [A, B, C]));
    expect(order).toEqual([A, B, C]);
    expect(fake.contexts[0]!.texts).toEqual([`${A} `, `${C} `]);
  });
});

describe('ElevenLabsTts fallback to HTTP', () => {
  it('uses HTTP when the socket is refused, and reports it', async () => {
    fake.faults.refuseUpgrade = true;
    const tts = makeTts();
    const { order, bytes } = summarize(await collect(tts, [A, B]));
    expect(order).toEqual([A, B]);
    for (const piece of [A, B]) expect(bytes.get(piece)).toBe(fake.audioBytesFor(piece));
    expect(fake.httpRequests.map((r) => r.text)).toEqual([A, B]);
    expect(fake.httpRequests[0]).toMatchObject({ voiceId: 'voice-1', modelId: 'eleven_flash_v2_5', outputFormat: 'ulaw_8000' });
    expect(fallbacks.map((f) => f.reason)).toEqual(['connect-failed']);
  });

  it('continues over HTTP from the word being spoken when the socket drops mid-turn', async () => {
    fake.faults.dropSocketAfterChunks = 2; // A renders in 5 chunks of 100 ms
    const tts = makeTts();
    const { order } = summarize(await collect(tts, [A, B]));
    expect(order).toEqual([A, B]);
    expect(fallbacks.map((f) => f.reason)).toEqual(['socket-lost']);
    const [tail, rest] = fake.httpRequests.map((r) => r.text);
    expect(A.endsWith(tail!)).toBe(true);
    expect(tail!.length).toBeGreaterThan(0);
    expect(tail!.length).toBeLessThan(A.length);
    expect(rest).toBe(B);
  });

  it('continues over HTTP when the socket stalls', async () => {
    fake.faults.stallSocket = true;
    const tts = makeTts({ firstAudioTimeoutMs: 300 });
    const { order } = summarize(await collect(tts, [A]));
    expect(order).toEqual([A]);
    expect(fallbacks.map((f) => f.reason)).toEqual(['stalled']);
  });

  it('throws a typed error when both transports fail', async () => {
    fake.faults.refuseUpgrade = true;
    fake.faults.httpStatus = 503;
    await expect(collect(makeTts(), [A])).rejects.toMatchObject({ name: 'ElevenLabsTtsError', kind: 'unavailable' });

    fake.faults.refuseUpgrade = false;
    fake.faults.httpStatus = null;
    const error = await collect(makeTts({ apiKey: 'wrong' }), [A]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ElevenLabsTtsError);
  });
});

describe('ElevenLabsTts lifecycle', () => {
  it('warm() renders prompts once; streaming them makes no request', async () => {
    const tts = makeTts();
    await tts.warm([A, A]);
    expect(fake.httpRequests).toHaveLength(1);
    const { order, bytes } = summarize(await collect(tts, [A]));
    expect(order).toEqual([A]);
    expect(bytes.get(A)).toBe(fake.audioBytesFor(A));
    expect(fake.httpRequests).toHaveLength(1);
    expect(fake.connections).toBe(0);
  });

  it('close() ends a running turn and leaves no socket or timer behind', async () => {
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    fake.latency.perChunkMs = 20;
    const tts = makeTts();
    const text = new AsyncQueue<string>();
    text.push(A);
    const chunks: TtsChunk[] = [];
    for await (const chunk of tts.stream({ text, signal: new AbortController().signal })) {
      chunks.push(chunk);
      if (chunks.length === 1) await tts.close();
    }
    expect(chunks).toHaveLength(1);
    await vi.waitFor(() => expect(fake.openSockets).toBe(0));
    await expect(collect(tts, [B])).rejects.toMatchObject({ kind: 'closed' });
    // The fake may still be finishing a chunk delay: poll without vi.waitFor, whose own timers would count.
    let timersAfter = Infinity;
    for (let i = 0; i < 100 && timersAfter > timersBefore; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    }
    expect(timersAfter).toBeLessThanOrEqual(timersBefore);
  });
});
