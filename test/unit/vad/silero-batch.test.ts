import { beforeAll, describe, expect, it } from 'vitest';
import { SileroVad } from '../../../src/media/vad/silero-vad.js';
import type { VadStream } from '../../../src/media/vad/vad.js';
import { callerPcm, whiteNoise } from '../../../testkit/helpers/caller-audio.js';

/** Feeds one stream in 20 ms frames, awaiting each, and returns its window probabilities. */
async function feed(stream: VadStream, pcm: Int16Array, frame = 160): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < pcm.length; i += frame) {
    for (const w of await stream.process(pcm.subarray(i, i + frame))) out.push(w.probability);
  }
  return out;
}

let audios: Int16Array[];
beforeAll(() => {
  const a = callerPcm('I would like to book an appointment for next Tuesday please', 'rms', 300);
  const b = callerPcm('yes that is right', 'rms', 700);
  const c = callerPcm('can you call me back tomorrow morning', 'rms', 100);
  audios = [a, new Int16Array(16000), b, whiteNoise(12000, -40, 5), c, a.subarray(1234)];
});

// The quiet gate is off here: these tests are about the batcher seeing every window.
describe('SileroVad micro-batching', () => {
  it('gives the same probabilities batched across streams as run one window at a time', async () => {
    const single = new SileroVad({ maxBatch: 1, quietGateDbfs: null });
    const expected: number[][] = [];
    for (const pcm of audios) expected.push(await feed(single.createStream(), pcm));

    const batched = new SileroVad({ quietGateDbfs: null });
    const { batcher } = await batched.load();
    // Different frame sizes so streams fall in and out of step with each other.
    const frames = [160, 160, 320, 100, 160, 700];
    const actual = await Promise.all(audios.map((pcm, i) => feed(batched.createStream(), pcm, frames[i])));

    expect(batcher.stats.windows).toBe(expected.reduce((n, p) => n + p.length, 0));
    expect(batcher.stats.runs).toBeLessThan(batcher.stats.windows / 2); // really batched
    expect(Math.max(...expected[0]!)).toBeGreaterThan(0.5);
    for (let s = 0; s < audios.length; s++) {
      expect(actual[s]).toHaveLength(expected[s]!.length);
      actual[s]!.forEach((p, i) => expect(Math.abs(p - expected[s]![i]!)).toBeLessThan(1e-4));
    }
  });

  it('respects maxBatch and keeps streams independent when a batch is split', async () => {
    const vad = new SileroVad({ maxBatch: 2, quietGateDbfs: null });
    const { batcher } = await vad.load();
    const single = new SileroVad({ maxBatch: 1, quietGateDbfs: null });
    const pcm = audios.slice(0, 5);
    const expected = await Promise.all(pcm.map((p) => feed(single.createStream(), p.subarray(0, 8192))));
    const actual = await Promise.all(pcm.map((p) => feed(vad.createStream(), p.subarray(0, 8192))));
    expect(batcher.stats.runs).toBeGreaterThanOrEqual(Math.ceil(batcher.stats.windows / 2));
    actual.forEach((probs, s) => probs.forEach((p, i) => expect(Math.abs(p - expected[s]![i]!)).toBeLessThan(1e-4)));
  });

  it('waits for more streams only while many are active, and goes as soon as each has a window queued', async () => {
    // A wait no test could sit out: finishing at all shows no batch waited for its timer.
    const vad = new SileroVad({ quietGateDbfs: null, batchWaitMs: 600_000, batchWaitFromStreams: 8 });
    const { batcher } = await vad.load();
    const single = new SileroVad({ maxBatch: 1, quietGateDbfs: null });
    const pcm = audios[0]!.subarray(0, 8192);
    // A lone stream: below batchWaitFromStreams, every window runs in the next event-loop turn.
    const alone = await feed(vad.createStream(), pcm);
    const expected = await feed(single.createStream(), pcm);
    alone.forEach((p, i) => expect(Math.abs(p - expected[i]!)).toBeLessThan(1e-4));
    // Twelve streams in step: after the first turn counts them active, each batch is all of them.
    await new Promise((r) => setTimeout(r, 150)); // the lone stream is no longer counted active
    const runs0 = batcher.stats.runs;
    const many = await Promise.all(Array.from({ length: 12 }, () => feed(vad.createStream(), pcm)));
    for (const probs of many) probs.forEach((p, i) => expect(Math.abs(p - expected[i]!)).toBeLessThan(1e-4));
    expect(batcher.stats.runs - runs0).toBeLessThanOrEqual(expected.length + 2);
  }, 20_000);

  it('a stream closed while its window is queued returns what it has and others carry on', async () => {
    const vad = new SileroVad();
    await vad.load();
    const a = vad.createStream();
    const b = vad.createStream();
    const pa = a.process(new Int16Array(512));
    const pb = b.process(new Int16Array(512));
    a.close();
    expect(await pa).toEqual([]);
    expect(await pb).toHaveLength(2);
    expect(await a.process(new Int16Array(512))).toEqual([]);
  });
});
