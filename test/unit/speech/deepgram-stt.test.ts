/**
 * The real Deepgram SDK, through our adapter, against the local protocol fake. Audio is generated
 * here (loud μ-law = speech, 0xFF = silence); the fake decides from it when results come. No timing
 * is asserted: tests wait for events and check their order and content.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeepgramStt, type DeepgramSttOptions } from '../../../src/speech/deepgram-stt.js';
import type { SttEvent, SttHints, SttStream } from '../../../src/speech/stt.js';
import { FakeDeepgram, type FakeConnectionRecord, type FakeDeepgramOptions } from '../../../testkit/fakes/deepgram-fake.js';
import { until } from '../../../testkit/helpers/process.js';

const API_KEY = 'test-key';
let fake: FakeDeepgram | undefined;
let streams: SttStream[] = [];

afterEach(async () => {
  for (const stream of streams) stream.close();
  streams = [];
  await fake?.close();
  fake = undefined;
});

/** Full-scale square wave: unmistakably speech to both the fake and the adapter. */
function speech(ms: number): Uint8Array {
  const bytes = new Uint8Array(ms * 8);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 2 === 0 ? 0x00 : 0x80;
  return bytes;
}

function silence(ms: number): Uint8Array {
  return new Uint8Array(ms * 8).fill(0xff);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes 20 ms frames, `paceMs` apart (20 = real time). */
async function feed(stream: SttStream, audio: Uint8Array, paceMs = 4): Promise<void> {
  for (let i = 0; i < audio.length; i += 160) {
    stream.write(audio.subarray(i, i + 160));
    await sleep(paceMs);
  }
}

async function startFake(options: Partial<FakeDeepgramOptions> = {}): Promise<FakeDeepgram> {
  fake = await FakeDeepgram.start({ apiKey: API_KEY, ...options });
  return fake;
}

function open(options: Partial<DeepgramSttOptions> = {}, hints: SttHints = {}) {
  const stt = new DeepgramStt({ apiKey: API_KEY, url: fake!.url, ...options });
  const events: SttEvent[] = [];
  const controller = new AbortController();
  const stream = stt.open({ signal: controller.signal, hints, preRollMs: 300, onEvent: (e) => events.push(e) });
  streams.push(stream);
  const finals = () => events.filter((e): e is Extract<SttEvent, { type: 'transcript-final' }> => e.type === 'transcript-final');
  const errors = () => events.filter((e): e is Extract<SttEvent, { type: 'error' }> => e.type === 'error');
  return { stt, stream, events, controller, finals, errors };
}

describe('DeepgramStt against the fake Deepgram', () => {
  it('a turn of speech then silence: speech-start, partials, then exactly one end-of-turn final', async () => {
    await startFake({ transcript: { utterances: [{ text: 'I would like an appointment.' }] } });
    const { stream, events, finals, stt } = open();
    expect(stt.name).toBe('deepgram:nova-3');
    await feed(stream, new Uint8Array([...speech(1000), ...silence(1300)]));
    await until(() => fake!.sentMessages('UtteranceEnd').length === 1, 'UtteranceEnd');
    await sleep(100); // let the adapter read the UtteranceEnd too

    expect(finals()).toEqual([{ type: 'transcript-final', text: 'I would like an appointment.', confidence: 0.95, endOfTurn: true, sttMs: 0 }]);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('speech-start');
    expect(types.at(-1)).toBe('transcript-final');
    expect(types.filter((t) => t === 'transcript-partial').length).toBeGreaterThanOrEqual(3);
    const query = fake!.connections[0]!.query;
    expect(Object.fromEntries(query)).toMatchObject({
      model: 'nova-3', encoding: 'mulaw', sample_rate: '8000', channels: '1', interim_results: 'true',
      endpointing: '300', utterance_end_ms: '1000', vad_events: 'true', smart_format: 'true', punctuate: 'true',
    });
    expect(fake!.connections[0]!.authorization).toBe(`Token ${API_KEY}`);
  });

  it('speechEnded() sends Finalize and the final comes from the flush, not from endpointing', async () => {
    await startFake({ transcript: { utterances: [{ text: 'Tuesday at ten.' }] } });
    const { stream, events, finals } = open({ endpointingMs: 10_000, utteranceEndMs: 10_000, finalizeTimeoutMs: 20_000 });
    stream.speechStarted();
    await feed(stream, new Uint8Array([...speech(600), ...silence(200)]));
    stream.speechEnded();
    await until(() => finals().length === 1, 'final');

    expect(fake!.connections[0]!.control).toContain('Finalize');
    const flushed = fake!.sentMessages('Results').filter((m) => m.from_finalize === true);
    expect(flushed).toHaveLength(1);
    expect(fake!.sentMessages('Results').some((m) => m.speech_final === true)).toBe(false);
    expect(finals()[0]).toMatchObject({ text: 'Tuesday at ten.', endOfTurn: true });
    expect(finals()[0]!.sttMs).toBeGreaterThanOrEqual(0);
    expect(events.findIndex((e) => e.type === 'transcript-partial')).toBeLessThan(events.findIndex((e) => e.type === 'transcript-final'));
  });

  it('while our VAD still hears the caller, a Deepgram pause does not end the turn', async () => {
    await startFake({ transcript: { utterances: [{ text: 'I need' }, { text: 'a cleaning.' }] } });
    const { stream, finals } = open({ finalizeTimeoutMs: 20_000 });
    stream.speechStarted();
    await feed(stream, new Uint8Array([...speech(500), ...silence(400), ...speech(500), ...silence(100)]));
    await until(() => fake!.sentMessages('Results').some((m) => m.speech_final === true), 'speech_final for the first part');
    expect(finals()).toHaveLength(0);
    stream.speechEnded();
    await until(() => finals().length === 1, 'final');
    await feed(stream, silence(400));
    expect(finals()).toHaveLength(1);
    expect(finals()[0]!.text).toBe('I need a cleaning.');
  });

  it('sends KeepAlive (a JSON message) during silence, and the socket stays open', async () => {
    await startFake({ idleTimeoutMs: 1500 });
    const { stream, errors } = open({ keepAliveMs: 200 });
    await feed(stream, silence(2500), 20);
    const connection = fake!.connections[0]!;
    expect(connection.control.filter((c) => c === 'KeepAlive').length).toBeGreaterThanOrEqual(2);
    expect(connection.control).not.toContain('invalid');
    expect(fake!.connections).toHaveLength(1);
    expect(connection.open).toBe(true);
    // Digital silence between turns is not streamed (KeepAlive holds the socket instead).
    expect(connection.audioBytes).toBeLessThan(silence(2500).length);
    expect(errors()).toEqual([]);
  });

  it('a socket dropped mid-utterance reconnects, replays the unfinalised audio and keeps transcribing', async () => {
    await startFake({
      transcript: { utterances: [{ text: 'Hello there.' }, { text: 'See you soon.' }] },
      connections: [{ dropAfterBytes: 2400 }],
    });
    const { stream, finals, errors } = open({ reconnectBudgetMs: 3000 }, { keywords: ['cleaning'] });
    stream.setHints({ keywords: ['Dr. Smith'] });
    await feed(stream, new Uint8Array([...speech(800), ...silence(500)]));
    await until(() => finals().length === 1, 'first final');
    expect(fake!.connections).toHaveLength(2);
    const [first, second] = fake!.connections as [FakeConnectionRecord, FakeConnectionRecord];
    expect(first.closeCode).toBe(1006);
    // The replay starts with the speech the first socket heard before it dropped.
    expect(second.audio[0]![0]).toBe(0x00);
    expect(second.audioBytes).toBeGreaterThanOrEqual(speech(800).length);
    // Hints are applied at the reconnect, not on the live socket.
    expect(first.query.getAll('keyterm')).toEqual(['cleaning']);
    expect(second.query.getAll('keyterm')).toEqual(['Dr. Smith']);

    await feed(stream, new Uint8Array([...speech(500), ...silence(500)]));
    await until(() => finals().length === 2, "second final");
    expect(finals().map((f) => f.text)).toEqual(['Hello there.', 'See you soon.']);
    expect(fake!.connections).toHaveLength(2); // one drop, one reconnect: nothing else
    expect(errors()).toEqual([]);
  });

  it('a failed upgrade (503) is retried within the budget; the transcript comes from a sidecar file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dg-fake-'));
    const sidecar = join(dir, 'yes.transcript.json');
    writeFileSync(sidecar, JSON.stringify({ utterances: [{ text: 'Yes.' }] }));
    await startFake({ transcript: sidecar, connections: [{ upgrade: 503 }] });
    rmSync(dir, { recursive: true });
    const { stream, finals, errors } = open();
    await feed(stream, new Uint8Array([...speech(400), ...silence(400)]));
    await until(() => finals().length === 1, 'final');
    expect(fake!.connections.map((c) => c.outcome)).toEqual([503, 101]);
    expect(finals()[0]!.text).toBe('Yes.');
    expect(errors()).toEqual([]);
  });

  it('when the reconnect budget runs out the stream fails with a fatal error and stops trying', async () => {
    await startFake({ connections: [{ dropAfterBytes: 1600 }], defaultBehavior: { upgrade: 'refuse' } });
    const { stream, errors } = open({ reconnectBudgetMs: 600 });
    await feed(stream, speech(400));
    await until(() => errors().length === 1, 'fatal error');
    expect(errors()[0]).toMatchObject({ type: 'error', fatal: true });
    expect(errors()[0]!.error.message).toMatch(/unreachable/);
    const attempts = fake!.connections.length;
    expect(attempts).toBeGreaterThanOrEqual(2);
    stream.write(speech(100));
    await sleep(300);
    expect(fake!.connections).toHaveLength(attempts);
    expect(errors()).toHaveLength(1);
  });

  it('a wrong API key is a fatal error at once (401), without retries', async () => {
    await startFake();
    const stt = new DeepgramStt({ apiKey: 'wrong-key', url: fake!.url, reconnectBudgetMs: 5000 });
    const events: SttEvent[] = [];
    streams.push(stt.open({ signal: new AbortController().signal, hints: {}, preRollMs: 0, onEvent: (e) => events.push(e) }));
    await until(() => events.length > 0, 'error event');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'error', fatal: true });
    expect((events[0] as Extract<SttEvent, { type: 'error' }>).error.message).toMatch(/401/);
    await sleep(300);
    expect(fake!.connections.map((c) => c.outcome)).toEqual([401]);
  });

  it('a Finalize answer later than finalizeTimeoutMs: the turn closes with what was heard, the late answer is dropped', async () => {
    await startFake({ transcript: { utterances: [{ text: 'Cancel my booking.', interims: ['Cancel my'] }] }, connections: [{ finalizeLatencyMs: 600 }] });
    const { stream, finals } = open({ endpointingMs: 10_000, finalizeTimeoutMs: 100 });
    stream.speechStarted();
    await feed(stream, new Uint8Array([...speech(400), ...silence(100)]));
    stream.speechEnded();
    await until(() => fake!.sentMessages('Results').some((m) => m.from_finalize === true), 'late flush');
    await sleep(100);
    expect(finals()).toHaveLength(1);
    expect(finals()[0]!.text).toBe('Cancel my');
  });

  it('a stalled service still ends the turn: after speechEnded() the final comes on the Finalize timeout', async () => {
    await startFake({ transcript: { utterances: [{ text: 'Hello?' }] }, connections: [{ stall: true }] });
    const { stream, finals, errors } = open({ finalizeTimeoutMs: 200 });
    stream.speechStarted();
    await feed(stream, new Uint8Array([...speech(300), ...silence(100)]));
    stream.speechEnded();
    await until(() => finals().length === 1, 'final');
    expect(fake!.connections[0]!.control).toEqual(['Finalize']);
    expect(finals()[0]).toMatchObject({ text: '', endOfTurn: true });
    expect(errors()).toEqual([]);
  });

  it('sends 40 ms messages (two frames each), and a held frame goes out before Finalize and CloseStream', async () => {
    await startFake({ transcript: { utterances: [{ text: 'Yes.' }] } });
    const { stream, finals } = open({ endpointingMs: 10_000, utteranceEndMs: 10_000 });
    await until(() => fake!.openConnections === 1, 'connection');
    stream.speechStarted();
    await feed(stream, speech(100)); // five frames: two messages and one frame held
    await until(() => fake!.connections[0]!.audioBytes === 640, 'two messages');
    stream.speechEnded();
    await until(() => finals().length === 1, 'final');
    const connection = fake!.connections[0]!;
    expect(connection.audio.map((m) => m.length)).toEqual([320, 320, 160]);
    expect(connection.control).toEqual(['Finalize']);
    expect(connection.audioBytesAtControl).toEqual([800]); // the held frame arrived before the Finalize
    await feed(stream, silence(20));
    stream.close();
    await until(() => connection.control.includes('CloseStream'), 'CloseStream');
    expect(connection.audioBytesAtControl.at(-1)).toBe(960);
  });

  it('chunkMs 20 sends every frame as its own message', async () => {
    await startFake({ transcript: { utterances: [{ text: 'Yes.' }] } });
    const { stream } = open({ chunkMs: 20 });
    await until(() => fake!.openConnections === 1, 'connection');
    await feed(stream, speech(60));
    await until(() => fake!.connections[0]!.audioBytes === 480, 'audio');
    expect(fake!.connections[0]!.audio.map((m) => m.length)).toEqual([160, 160, 160]);
  });

  it('close/abort sends CloseStream and leaves no socket or timer behind', async () => {
    await startFake({ transcript: { utterances: [{ text: 'Hi.' }] } });
    const resources = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPSocketWrap').length;
    const before = resources();
    const { stream, controller } = open({ keepAliveMs: 100 });
    await feed(stream, speech(200));
    await until(() => fake!.openConnections === 1, 'connection');
    controller.abort();
    stream.close(); // idempotent
    await until(() => fake!.openConnections === 0, 'socket closed');
    const connection = fake!.connections[0]!;
    expect(connection.control.at(-1)).toBe('CloseStream');
    const bytes = connection.audioBytes;
    stream.write(speech(100));
    await until(() => resources() <= before, 'no leftover timers or sockets');
    expect(connection.audioBytes).toBe(bytes);
  });

  it('a stream opened with an already aborted signal never connects', async () => {
    await startFake();
    const stt = new DeepgramStt({ apiKey: API_KEY, url: fake!.url });
    const controller = new AbortController();
    controller.abort();
    const stream = stt.open({ signal: controller.signal, hints: {}, preRollMs: 0, onEvent: () => undefined });
    stream.write(speech(100));
    await sleep(200);
    expect(fake!.connections).toHaveLength(0);
  });
});
