import { afterAll, describe, expect, it } from 'vitest';
import { PocketsphinxPool } from '../../../src/speech/pocketsphinx-pool.js';
import { PocketsphinxStt, streamedAgree, type Heard } from '../../../src/speech/pocketsphinx-stt.js';
import { DEFAULT_JSGF, jsgfForPhrases } from '../../../src/speech/default-grammar.js';
import type { SttEvent, SttHints, SttStream } from '../../../src/speech/stt.js';
import { pcm16ToMulaw } from '../../../src/speech/audio-convert.js';
import { callerMulaw, frames, whiteNoise } from '../../../testkit/helpers/caller-audio.js';
import { isAlive, waitFor } from '../../../testkit/helpers/process.js';

const MENU = jsgfForPhrases(['yes', 'no', 'book an appointment', 'cancel my appointment', 'speak to someone'], 'menu');
const DIGITS = `#JSGF V1.0;
grammar digits;
<digit> = zero | oh | one | two | three | four | five | six | seven | eight | nine;
public <digits> = <digit>+;
`;

const pool = new PocketsphinxPool({ size: 1 });

/** A real decoder pool that counts the decodes it was asked for. */
class CountingPool extends PocketsphinxPool {
  decodes = 0;
  override decode(...args: Parameters<PocketsphinxPool['decode']>): ReturnType<PocketsphinxPool['decode']> {
    this.decodes++;
    return super.decode(...args);
  }
}
const engine = new PocketsphinxStt({ pool });
afterAll(() => pool.close());

function openStream(hints: SttHints, signal = new AbortController().signal) {
  const events: SttEvent[] = [];
  const stream = engine.open({ signal, hints, preRollMs: 300, onEvent: (e) => events.push(e) });
  return { stream, events };
}

/** Feed audio the way the session does: leading frames before onset, the rest after. */
function speak(stream: SttStream, mulaw: Uint8Array, onsetFrame = 10): void {
  const all = frames(mulaw);
  all.forEach((frame, i) => {
    if (i === onsetFrame) stream.speechStarted();
    stream.write(frame);
  });
  stream.speechEnded();
}

/** Onset at frame 10 and a pause half way through, after which the caller goes on (no end of turn). */
function speakThroughAPause(stream: SttStream, mulaw: Uint8Array): void {
  const all = frames(mulaw);
  const half = Math.floor(all.length / 2);
  all.forEach((frame, i) => {
    if (i === 10) stream.speechStarted();
    if (i === half) stream.speechPaused!();
    stream.write(frame);
  });
}

async function nextFinal(events: SttEvent[], count: number): Promise<SttEvent> {
  await waitFor(() => events.length >= count);
  return events[count - 1]!;
}

describe('a streamed result stands only when both passes agree (else the utterance is decoded whole)', () => {
  const pass = (text: string) => ({ text, confidence: 1, acousticScore: -1, decodeMs: 1 });
  const heard = (grammar: string, open?: string): Heard => ({ text: grammar, confidence: 1, recognition: { grammar: pass(grammar), ...(open !== undefined ? { open: pass(open) } : {}), chosen: 'grammar', fit: 0 } });
  it.each<[Heard, boolean]>([
    [heard('book an appointment', 'book an appointment'), true],
    [heard('book an appointment', 'book a appointment'), false],
    [heard('', ''), false],
    [heard('yes'), true], // one pass only: nothing to disagree with
  ])('%#', (h, stands) => expect(streamedAgree(h)).toBe(stands));
});

describe('PocketsphinxStt', () => {
  it('a decode started at the pause is used when the turn ends without more speech', async () => {
    const counting = new CountingPool();
    try {
      const stt = new PocketsphinxStt({ pool: counting });
      const events: SttEvent[] = [];
      const stream = stt.open({ signal: new AbortController().signal, hints: { jsgf: MENU }, preRollMs: 300, onEvent: (e) => events.push(e) });
      const all = frames(callerMulaw('cancel my appointment', 'rms'));
      all.forEach((frame, i) => {
        if (i === 10) stream.speechStarted();
        stream.write(frame);
      });
      stream.speechPaused!();
      stream.write(new Uint8Array(160).fill(0xff)); // the rest of the end-of-turn silence
      stream.speechEnded();
      const final = await nextFinal(events, 1);
      expect(final).toMatchObject({ type: 'transcript-final', text: 'cancel my appointment', endOfTurn: true });
      expect(counting.decodes).toBe(1);
      stream.close();
    } finally {
      counting.close();
    }
  });

  it('speech after a pause supersedes the early decode: the transcript covers the whole utterance', async () => {
    const counting = new CountingPool();
    try {
      const stt = new PocketsphinxStt({ pool: counting });
      const events: SttEvent[] = [];
      const stream = stt.open({ signal: new AbortController().signal, hints: { jsgf: MENU }, preRollMs: 300, onEvent: (e) => events.push(e) });
      speakThroughAPause(stream, callerMulaw('book an appointment', 'rms'));
      stream.speechPaused!();
      stream.speechEnded();
      const final = await nextFinal(events, 1);
      expect(final).toMatchObject({ type: 'transcript-final', text: 'book an appointment' });
      expect(events.filter((e) => e.type === 'transcript-final')).toHaveLength(1);
      stream.close();
    } finally {
      counting.close();
    }
  });

  it('on a warm pool the utterance is decoded as it is spoken: the pause only finalises it', async () => {
    const counting = new CountingPool({ streamDecoders: 2 });
    try {
      await counting.decode(Buffer.alloc(3200), MENU); // the decoder is up (and its stream decoders)
      counting.decodes = 0;
      const stt = new PocketsphinxStt({ pool: counting });
      const events: SttEvent[] = [];
      const stream = stt.open({ signal: new AbortController().signal, hints: { jsgf: MENU }, preRollMs: 300, onEvent: (e) => events.push(e) });
      speakThroughAPause(stream, callerMulaw('book an appointment', 'rms'));
      stream.speechPaused!();
      stream.write(new Uint8Array(160).fill(0xff));
      stream.speechEnded();
      await waitFor(() => events.some((e) => e.type === 'transcript-final'));
      expect(events.find((e) => e.type === 'transcript-final')).toMatchObject({ text: 'book an appointment', endOfTurn: true });
      // Both pauses were streams (the second fed the utterance again once the caller spoke on).
      expect(counting.decodes).toBe(0);
      // Stream decoders are given back: a new utterance can stream again.
      expect(counting.openStream(MENU)).not.toBeNull();
      stream.close();
    } finally {
      counting.close();
    }
  });

  it('recognises in-grammar phrases', async () => {
    const { stream, events } = openStream({ jsgf: MENU });
    speak(stream, callerMulaw('book an appointment'));
    const final = await nextFinal(events, 1);
    expect(final).toMatchObject({ type: 'transcript-final', text: 'book an appointment', endOfTurn: true });
    if (final.type !== 'transcript-final') throw new Error('unreachable');
    expect(final.confidence).toBeGreaterThan(0);
    expect(final.sttMs).toBeGreaterThanOrEqual(0);
    stream.close();
  });

  it('switches grammars between utterances of one call', async () => {
    const { stream, events } = openStream({ jsgf: MENU });
    speak(stream, callerMulaw('yes'));
    expect(await nextFinal(events, 1)).toMatchObject({ type: 'transcript-final', text: 'yes' });
    stream.setHints({ jsgf: DIGITS });
    speak(stream, callerMulaw('five five five one two three four', 'rms'));
    expect(await nextFinal(events, 2)).toMatchObject({
      type: 'transcript-final',
      text: 'five five five one two three four',
    });
    stream.close();
  });

  it('uses the built-in default grammar without hints', async () => {
    const { stream, events } = openStream({});
    speak(stream, callerMulaw('no', 'rms'));
    expect(await nextFinal(events, 1)).toMatchObject({ type: 'transcript-final', text: 'no' });
    expect(DEFAULT_JSGF).toContain('public');
    stream.close();
  });

  it('returns an empty final for silence and low noise', async () => {
    const { stream, events } = openStream({ jsgf: MENU });
    speak(stream, new Uint8Array(8000).fill(0xff)); // μ-law digital silence, 1 s
    speak(stream, pcm16ToMulaw(whiteNoise(8000, -60)));
    const first = await nextFinal(events, 1);
    const second = await nextFinal(events, 2);
    expect(first).toMatchObject({ type: 'transcript-final', text: '', endOfTurn: true, confidence: 0 });
    expect(second).toMatchObject({ type: 'transcript-final', text: '' });
    stream.close();
  });

  it('reports a bad grammar as a non-fatal error and keeps decoding', async () => {
    const { stream, events } = openStream({ jsgf: 'this is not jsgf' });
    speak(stream, callerMulaw('yes'));
    expect(await nextFinal(events, 1)).toMatchObject({ type: 'error', fatal: false });
    stream.setHints({ jsgf: MENU });
    speak(stream, callerMulaw('yes'));
    expect(await nextFinal(events, 2)).toMatchObject({ type: 'transcript-final', text: 'yes' });
    stream.close();
  });

  it('emits nothing after the open() signal aborts mid-decode', async () => {
    const controller = new AbortController();
    const { stream, events } = openStream({ jsgf: MENU }, controller.signal);
    speak(stream, callerMulaw('speak to someone'));
    controller.abort();
    stream.write(new Uint8Array(160)); // ignored after close
    stream.close(); // idempotent
    // A later utterance on another stream still decodes: the pool is unaffected by the abort.
    const other = openStream({ jsgf: MENU });
    speak(other.stream, callerMulaw('no'));
    expect(await nextFinal(other.events, 1)).toMatchObject({ type: 'transcript-final', text: 'no' });
    expect(events).toEqual([]);
    other.stream.close();
  });

  it('restarts a crashed decoder and fails the in-flight utterance with a non-fatal error', async () => {
    const { stream, events } = openStream({ jsgf: MENU });
    await waitFor(() => pool.pids.length === 1);
    const [pid] = pool.pids;
    speak(stream, callerMulaw('book an appointment'));
    process.kill(pid!, 'SIGKILL');
    const first = await nextFinal(events, 1);
    // The kill can land before or after the reply; either outcome is a settled utterance, never a hang.
    expect(['error', 'transcript-final']).toContain(first.type);
    if (first.type === 'error') expect(first.fatal).toBe(false);
    speak(stream, callerMulaw('yes'));
    expect(await nextFinal(events, 2)).toMatchObject({ type: 'transcript-final', text: 'yes' });
    expect(pool.pids[0]).not.toBe(pid);
    stream.close();
  });

  it('leaves no decoder processes after close', async () => {
    const own = new PocketsphinxStt({ size: 1 });
    own.warm();
    await waitFor(() => own.pool.pids.length === 1);
    const pids = own.pool.pids;
    own.close();
    await waitFor(() => pids.every((pid) => !isAlive(pid)));
    expect(own.pool.pids).toEqual([]);
    await expect(own.pool.decode(Buffer.alloc(320), MENU)).rejects.toThrow(/closed/);
  });
});
