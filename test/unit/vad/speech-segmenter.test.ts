import { describe, expect, it } from 'vitest';
import {
  endTurnAfter,
  initialSegmenterState,
  segment,
  type SegmenterConfig,
  type SegmenterEvent,
  type SegmenterState,
} from '../../../src/media/vad/speech-segmenter.js';

const config: SegmenterConfig = { threshold: 0.5, hysteresis: 0.15, onsetMs: 64, minBargeInMs: 160, endSilenceMs: 320 };

/** Runs 32 ms windows with these probabilities; returns each window's events, tagged by index. */
function runWindows(probabilities: number[], cfg = config): { events: string[]; state: SegmenterState } {
  let state = initialSegmenterState;
  const events: string[] = [];
  probabilities.forEach((probability, i) => {
    let out: SegmenterEvent[];
    [state, out] = segment(state, { probability, durationMs: 32 }, cfg);
    for (const e of out) {
      const detail = e.type === 'speech-start' ? `:${e.leadMs}` : e.type === 'speech-end' ? `:${e.trailingMs}` : '';
      events.push(`${i}:${e.type}${detail}`);
    }
  });
  return { events, state };
}

const S = 0.9; // speech
const Q = 0.05; // quiet
const M = 0.4; // between threshold - hysteresis (0.35) and threshold (0.5)
const rep = (p: number, n: number) => Array<number>(n).fill(p);

describe('segment', () => {
  it.each([
    { name: 'silence only', input: rep(Q, 20), events: [] },
    { name: 'one speech window is not an onset', input: [Q, S, Q, Q], events: [] },
    { name: 'onset after 64 ms of speech', input: [Q, S, S, S], events: ['2:speech-start:64'] },
    { name: 'interrupted onset restarts', input: [S, Q, S, S], events: ['3:speech-start:64'] },
    {
      name: 'barge-in eligible after 160 ms of speech',
      input: rep(S, 6),
      events: ['1:speech-start:64', '4:barge-in-eligible'],
    },
    {
      name: 'end after 320 ms of silence',
      input: [...rep(S, 3), ...rep(Q, 10)],
      events: ['1:speech-start:64', '12:speech-end:320'],
    },
    {
      name: 'a short pause does not end the turn',
      input: [...rep(S, 3), ...rep(Q, 9), S, ...rep(Q, 9)],
      events: ['1:speech-start:64'], // 128 ms of speech in total: below minBargeInMs
    },
    {
      name: 'hysteresis band counts as speech while speaking (silence timer resets)',
      input: [...rep(S, 2), ...rep(Q, 9), M, ...rep(Q, 9)],
      events: ['1:speech-start:64'],
    },
    {
      name: 'hysteresis band is not speech before onset',
      input: rep(M, 10),
      events: [],
    },
    {
      name: 'new turn after an end',
      input: [...rep(S, 2), ...rep(Q, 10), ...rep(S, 2)],
      events: ['1:speech-start:64', '11:speech-end:320', '13:speech-start:64'],
    },
  ])('$name', ({ input, events }) => {
    expect(runWindows(input).events).toEqual(events);
  });

  it('signals barge-in together with the onset when onset ≥ minBargeInMs', () => {
    const cfg = { ...config, onsetMs: 160 };
    expect(runWindows(rep(S, 5), cfg).events).toEqual(['4:speech-start:160', '4:barge-in-eligible']);
  });

  it('signals barge-in only once per turn', () => {
    const { events } = runWindows([...rep(S, 6), Q, ...rep(S, 6)]);
    expect(events.filter((e) => e.endsWith('barge-in-eligible'))).toHaveLength(1);
  });

  it('returns to the initial state after speech-end', () => {
    expect(runWindows([...rep(S, 2), ...rep(Q, 10)]).state).toEqual(initialSegmenterState);
  });
});

describe('speech-pause (early decode signal)', () => {
  const config = { threshold: 0.5, hysteresis: 0.15, onsetMs: 40, minBargeInMs: 100, endSilenceMs: 200, pauseMs: 80 };
  const run = (probabilities: number[]) => {
    let state = initialSegmenterState;
    const out: string[] = [];
    for (const probability of probabilities) {
      const [next, events] = segment(state, { probability, durationMs: 20 }, config);
      state = next;
      out.push(...events.map((e) => e.type));
    }
    return out;
  };

  it.each<[string, number[], string[]]>([
    ['pause then end', [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], ['speech-start', 'barge-in-eligible', 'speech-pause', 'speech-end']],
    ['a pause, more speech, then the end', [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], ['speech-start', 'barge-in-eligible', 'speech-pause', 'speech-pause', 'speech-end']],
    ['a gap shorter than the pause', [1, 1, 1, 1, 1, 1, 0, 0, 1, 1], ['speech-start', 'barge-in-eligible']],
  ])('%s', (_name, probabilities, events) => {
    expect(run(probabilities)).toEqual(events);
  });

  it('is not signalled without pauseMs', () => {
    let state = initialSegmenterState;
    const types: string[] = [];
    for (const probability of [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) {
      const [next, events] = segment(state, { probability, durationMs: 20 }, { ...config, pauseMs: undefined });
      state = next;
      types.push(...events.map((e) => e.type));
    }
    expect(types).not.toContain('speech-pause');
  });
});


describe('endTurnAfter: the pause length chosen from the caller words', () => {
  const speakThenQuiet = (quiet: number) => {
    let state = initialSegmenterState;
    for (const p of [...rep(S, 6), ...rep(Q, quiet)]) [state] = segment(state, { probability: p, durationMs: 32 }, config);
    return state;
  };

  it.each([
    { name: 'already silent long enough: ends now', quiet: 8, after: 200, ends: true },
    { name: 'not yet: ends later', quiet: 2, after: 200, ends: false },
    { name: 'mid-speech: never at once', quiet: 0, after: 0, ends: false },
  ])('$name', ({ quiet, after, ends }) => {
    const [next, events] = endTurnAfter(speakThenQuiet(quiet), after);
    expect(events.map((e) => e.type)).toEqual(ends ? ['speech-end'] : []);
    expect(next.speaking).toBe(!ends);
  });

  it('a shorter wait ends the turn at that silence; a longer one waits past endSilenceMs', () => {
    let [state] = endTurnAfter(speakThenQuiet(2), 128);
    let events: SegmenterEvent[] = [];
    [state, events] = segment(state, { probability: Q, durationMs: 32 }, config);
    expect(events).toEqual([]);
    [state, events] = segment(state, { probability: Q, durationMs: 32 }, config);
    expect(events).toEqual([{ type: 'speech-end', trailingMs: 128 }]);

    [state] = endTurnAfter(speakThenQuiet(2), 640);
    for (let i = 0; i < 17; i++) {
      [state, events] = segment(state, { probability: Q, durationMs: 32 }, config);
      expect(events).toEqual([]);
    }
    [state, events] = segment(state, { probability: Q, durationMs: 32 }, config);
    expect(events).toEqual([{ type: 'speech-end', trailingMs: 640 }]);
  });

  it('speech resuming drops the chosen wait', () => {
    let [state] = endTurnAfter(speakThenQuiet(2), 640);
    [state] = segment(state, { probability: S, durationMs: 32 }, config);
    expect(state.endAfterMs).toBeNull();
  });

  it('does nothing between turns', () => {
    expect(endTurnAfter(initialSegmenterState, 100)).toEqual([initialSegmenterState, []]);
  });
});

describe('speech longer than a listener sound', () => {
  it('is signalled once per utterance when longSpeechMs is set', () => {
    const cfg = { ...config, longSpeechMs: 320 };
    const { events } = runWindows([S, S, S, S, S, S, S, S, S, S, S, S, Q, Q, Q, Q, Q, Q, Q, Q, Q, Q, Q, S, S, S], cfg);
    expect(events.filter((e) => e.endsWith('speech-long'))).toEqual(['9:speech-long']);
  });
  it('is never signalled without longSpeechMs', () => {
    expect(runWindows(Array(40).fill(S)).events.some((e) => e.endsWith('speech-long'))).toBe(false);
  });
});
