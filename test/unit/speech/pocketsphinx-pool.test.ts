import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PocketsphinxPool } from '../../../src/speech/pocketsphinx-pool.js';
import { jsgfForPhrases } from '../../../src/speech/default-grammar.js';
import { PocketsphinxStt } from '../../../src/speech/pocketsphinx-stt.js';
import type { SttEvent } from '../../../src/speech/stt.js';
import { childPids, waitFor } from '../../../testkit/helpers/process.js';
import { callerMulaw } from '../../../testkit/helpers/caller-audio.js';
import { mulawToPcm16, pcm16ToLeBytes, upsample2xLinear } from '../../../src/speech/audio-convert.js';

const pcm16kOf = (mulaw: Uint8Array) => pcm16ToLeBytes(upsample2xLinear(mulawToPcm16(mulaw)));

const GRAMMAR = jsgfForPhrases(['yes', 'no']);
const silence = Buffer.alloc(3200);

/** A stand-in decoder written to a temp file: lets tests simulate hangs without the real model. */
function fakeDecoder(body: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'fake-decoder-')), 'decoder.py');
  writeFileSync(file, `import sys, json\n${body}\n`);
  return file;
}

describe('PocketsphinxPool', () => {
  it('fails fast (no respawn loop) when the decoder cannot start', async () => {
    const pool = new PocketsphinxPool({ python: '/nonexistent/python3' });
    await expect(pool.decode(silence, GRAMMAR)).rejects.toThrow(/unavailable|cannot start/);
    expect(pool.pids).toEqual([]);
    pool.close();
  });

  it('surfaces a start failure as a non-fatal STT error event', async () => {
    const engine = new PocketsphinxStt({ python: '/nonexistent/python3' });
    const events: SttEvent[] = [];
    const stream = engine.open({ signal: new AbortController().signal, hints: {}, preRollMs: 0, onEvent: (e) => events.push(e) });
    stream.speechStarted();
    stream.write(new Uint8Array(1600).fill(0xff));
    stream.speechEnded();
    await waitFor(() => events.length > 0);
    expect(events[0]).toMatchObject({ type: 'error', fatal: false });
    engine.close();
  });

  it('kills and replaces a hung decoder, failing only the stuck request', async () => {
    const script = fakeDecoder(`
import time
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin.buffer:
    req = json.loads(line)
    sys.stdin.buffer.read(req["bytes"])
    if req["jsgf"] == "hang":
        time.sleep(3600)
    print(json.dumps({"id": req["id"], "text": "", "confidence": 0, "ms": 0}), flush=True)
`);
    const pool = new PocketsphinxPool({ python: 'python3', script, decodeTimeoutMs: 300 });
    pool.start();
    await waitFor(() => pool.pids.length === 1);
    const [first] = pool.pids;
    await expect(pool.decode(Buffer.alloc(0), 'hang')).rejects.toThrow(/timed out/);
    await waitFor(() => pool.pids.length === 1 && pool.pids[0] !== first);
    await expect(pool.decode(Buffer.alloc(0), 'fine')).resolves.toMatchObject({ text: '' });
    pool.close();
    await waitFor(() => childPids('python3').length === 0);
  });

  it('rejects a queued request whose signal aborts, without disturbing the one in flight', async () => {
    const pool = new PocketsphinxPool({ size: 1 });
    const controller = new AbortController();
    const inFlight = pool.decode(silence, GRAMMAR);
    const queued = pool.decode(silence, GRAMMAR, controller.signal);
    controller.abort();
    await expect(queued).rejects.toMatchObject({ name: 'AbortError' });
    await expect(inFlight).resolves.toMatchObject({ text: '' });
    await expect(pool.decode(silence, GRAMMAR, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    pool.close();
  });

  it('streams: fed audio decodes like a whole utterance; no stream when every stream decoder is taken', async () => {
    const pool = new PocketsphinxPool({ size: 1, streamDecoders: 1 });
    const yes = Buffer.from(pcm16kOf(callerMulaw('yes', 'rms')));
    const whole = await pool.decode(yes, GRAMMAR);
    const stream = pool.openStream(GRAMMAR)!;
    expect(stream).not.toBeNull();
    expect(pool.openStream(GRAMMAR)).toBeNull(); // its one stream decoder is in use
    const half = Math.floor(yes.length / 4) * 2;
    stream.feed(yes.subarray(0, half));
    const streamed = await stream.finish(yes.subarray(half));
    expect(streamed.text).toBe(whole.text);
    expect(streamed.text).toBe('yes');
    const next = pool.openStream(GRAMMAR)!; // given back at finish
    next.feed(yes);
    next.drop();
    const again = pool.openStream(GRAMMAR)!; // and at drop
    await expect(again.finish(Buffer.alloc(0))).rejects.toThrow(/no audio/);
    pool.close();
  });

  it('runs one decoder per slot and serves concurrent requests', async () => {
    const pool = new PocketsphinxPool({ size: 2 });
    const results = await Promise.all([1, 2, 3, 4].map(() => pool.decode(silence, GRAMMAR)));
    expect(results.map((r) => r.text)).toEqual(['', '', '', '']);
    expect(pool.pids).toHaveLength(2);
    pool.close();
    expect(pool.pids).toEqual([]);
  });
});
