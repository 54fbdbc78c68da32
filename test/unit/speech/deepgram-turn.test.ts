/**
 * Turn assembly from Deepgram's live results (src/speech/deepgram-turn.ts), without a socket: one
 * endOfTurn final per turn from either detector, Finalize and its timeout, late results dropped.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeepgramTurn, type LiveMessage } from '../../../src/speech/deepgram-turn.js';
import type { SttEvent } from '../../../src/speech/stt.js';

function setup() {
  const events: SttEvent[] = [];
  const finalizes: number[] = [];
  const trims: number[] = [];
  let next = 0;
  const turn = new DeepgramTurn({
    emit: (event) => events.push(event),
    sendFinalize: () => finalizes.push(next),
    finalisedBefore: (index) => trims.push(index),
    nextIndex: () => next,
    toIndex: (seconds) => Math.round(seconds * 8000),
    finalizeTimeoutMs: 1500,
  });
  const results = (text: string, start: number, duration: number, flags: Partial<LiveMessage> = {}): LiveMessage => ({
    type: 'Results',
    start,
    duration,
    is_final: true,
    channel: { alternatives: [{ transcript: text, confidence: 0.9 }] },
    ...flags,
  });
  const finals = () => events.filter((e) => e.type === 'transcript-final');
  return { turn, events, finals, finalizes, trims, results, audio: (bytes: number) => (next += bytes) };
}

afterEach(() => vi.useRealTimers());

describe('DeepgramTurn', () => {
  it("our VAD's end sends Finalize; Deepgram's answer closes the turn with every finalised segment", () => {
    const { turn, finals, finalizes, results } = setup();
    turn.speechStarted();
    turn.onMessage(results('I would like', 0, 1));
    turn.speechEnded();
    expect(finalizes).toHaveLength(1);
    expect(turn.finalizePending).toBe(true);
    turn.onMessage(results('to book.', 1, 0.5, { from_finalize: true }));
    expect(finals()).toMatchObject([{ text: 'I would like to book.', endOfTurn: true, confidence: 0.9 }]);
    expect(turn.finalizePending).toBe(false);
    expect(turn.open).toBe(false);
  });

  it('an unanswered Finalize closes the turn after the timeout with what was heard, interim included', () => {
    vi.useFakeTimers();
    const { turn, finals, results } = setup();
    turn.speechStarted();
    turn.onMessage(results('Tuesday', 0, 0.6));
    turn.onMessage(results('at ten', 0.6, 0.4, { is_final: false }));
    turn.speechEnded();
    vi.advanceTimersByTime(1499);
    expect(finals()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(finals()).toMatchObject([{ text: 'Tuesday at ten' }]);
  });

  it("speech_final while our VAD still hears the caller is a pause; at the VAD's end it answers without a Finalize", () => {
    const { turn, finals, finalizes, results } = setup();
    turn.speechStarted();
    turn.onMessage(results('Book it.', 0, 1, { speech_final: true }));
    expect(finals()).toEqual([]);
    turn.speechEnded();
    expect(finalizes).toEqual([]);
    expect(finals()).toMatchObject([{ text: 'Book it.' }]);
  });

  it('Deepgram alone ends a turn our VAD missed (speech_final, or UtteranceEnd after an interim was finalised)', () => {
    const a = setup();
    a.turn.onMessage(a.results('Hello.', 0, 1, { speech_final: true }));
    expect(a.finals()).toMatchObject([{ text: 'Hello.' }]);
    const b = setup();
    b.turn.onMessage(b.results('Hello', 0, 1));
    b.turn.onMessage({ type: 'UtteranceEnd' });
    expect(b.finals()).toMatchObject([{ text: 'Hello' }]);
  });

  it('results and speech starts about audio of a turn already answered are dropped', () => {
    const { turn, events, finals, trims, results } = setup();
    turn.onMessage(results('First.', 0, 2, { speech_final: true }));
    expect(trims.at(-1)).toBe(16_000);
    turn.onMessage(results('First again', 0.5, 1));
    turn.onMessage({ type: 'SpeechStarted', timestamp: 1 });
    expect(finals()).toHaveLength(1);
    expect(events.filter((e) => e.type === 'speech-start')).toEqual([]);
    turn.onMessage({ type: 'SpeechStarted', timestamp: 2.5 });
    expect(events.filter((e) => e.type === 'speech-start')).toHaveLength(1);
  });

  it('interim results are passed on as partials, each change once', () => {
    const { turn, events, results } = setup();
    turn.speechStarted();
    turn.onMessage(results('I', 0, 0.2, { is_final: false }));
    turn.onMessage(results('I', 0, 0.2, { is_final: false }));
    turn.onMessage(results('I would', 0, 0.4, { is_final: false }));
    expect(events).toEqual([
      { type: 'transcript-partial', text: 'I' },
      { type: 'transcript-partial', text: 'I would' },
    ]);
    expect(turn.open).toBe(true);
  });
});
