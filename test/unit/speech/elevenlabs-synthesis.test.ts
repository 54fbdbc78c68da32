/**
 * The ElevenLabs reply state machine, driven event by event with no socket, timer or HTTP: each
 * row says which commands an event produces in a given state.
 */
import { describe, expect, it } from 'vitest';
import {
  INITIAL_SYNTHESIS,
  reduceSynthesis,
  type SynthesisCommand,
  type SynthesisEvent,
  type SynthesisState,
} from '../../../src/speech/elevenlabs-synthesis.js';

const timing = { firstAudioMs: 4000, idleMs: 1500 };

/** Runs events in order; returns the final state and every command, per event. */
function drive(events: SynthesisEvent[], from: SynthesisState = INITIAL_SYNTHESIS) {
  let state = from;
  const steps: SynthesisCommand[][] = [];
  for (const event of events) {
    const [next, commands] = reduceSynthesis(state, event, timing);
    state = next;
    steps.push(commands);
  }
  return { state, steps, all: steps.flat() };
}
const types = (commands: SynthesisCommand[]) => commands.map((c) => c.type);
const audio = (n: number) => new Uint8Array(n).fill(0x7f);
/** Alignment for `text` spread over `ms`, one character every ms / length. */
const aligned = (text: string, ms: number) => ({
  chars: [...text],
  charStartTimesMs: [...text].map((_, i) => Math.floor((i * ms) / text.length)),
});

const CONNECTED: SynthesisEvent[] = [
  { type: 'piece', text: 'Hello there.' },
  { type: 'socket-ready', contextId: 'turn-1' },
  { type: 'context-opened', gone: false },
];

describe('ElevenLabs reply reducer', () => {
  it.each<[string, SynthesisEvent[], string[][]]>([
    ['the first piece connects; nothing is sent yet', [{ type: 'piece', text: 'Hello there.' }], [['connect']]],
    ['whitespace alone is not a piece', [{ type: 'piece', text: '   ' }], [[]]],
    [
      'once the context opens, waiting pieces are sent and the watchdog armed for the first audio',
      CONNECTED,
      [['connect'], ['open-context'], ['send-text', 'start-keep-alive', 'arm-watchdog']],
    ],
    ['a cached piece plays from memory without connecting', [{ type: 'piece', text: 'Hi.', cached: [audio(4), audio(4)] }], [['play', 'play']]],
    [
      'a refused socket falls back to HTTP for the pieces not yet heard',
      [{ type: 'piece', text: 'Hello there.' }, { type: 'socket-failed', reason: 'connect-failed', detail: 'refused' }],
      [['connect'], ['report-fallback', 'stop-timers', 'render-http']],
    ],
    [
      'a socket that died while the context opened is an HTTP reply',
      [{ type: 'piece', text: 'Hello there.' }, { type: 'socket-ready', contextId: 'turn-1' }, { type: 'context-opened', gone: true }],
      [['connect'], ['open-context'], ['report-fallback', 'cancel-context', 'stop-timers', 'render-http']],
    ],
    [
      'a stall backs off the socket, cancels the context, goes to HTTP and kills the socket',
      [...CONNECTED, { type: 'stall' }],
      [['connect'], ['open-context'], ['send-text', 'start-keep-alive', 'arm-watchdog'], ['note-socket-failure', 'report-fallback', 'cancel-context', 'stop-timers', 'terminate-socket', 'render-http']],
    ],
    ['a stall after the switch to HTTP is ignored', [{ type: 'piece', text: 'Hi there.' }, { type: 'socket-failed', reason: 'stalled', detail: '' }, { type: 'stall' }], [['connect'], ['report-fallback', 'stop-timers', 'render-http'], []]],
    ['a socket offered after the switch to HTTP is not used', [{ type: 'piece', text: 'Hi there.' }, { type: 'socket-failed', reason: 'connect-failed', detail: '' }, { type: 'socket-ready', contextId: 'turn-9' }], [['connect'], ['report-fallback', 'stop-timers', 'render-http'], []]],
  ])('%s', (_name, events, expected) => {
    expect(drive(events).steps.map(types)).toEqual(expected);
  });

  it('aligned audio plays under its piece and restarts the watchdog with the idle timeout', () => {
    const { steps, state } = drive([...CONNECTED, { type: 'context', event: { type: 'audio', audio: audio(80), alignment: aligned('Hello there.', 10) }, adapterClosed: false }]);
    expect(steps.at(-1)).toEqual([
      { type: 'play', audio: audio(80), text: 'Hello there.' },
      { type: 'disarm-watchdog' },
    ]);
    expect(state).toMatchObject({ heardAudio: true, sentSinceAudio: false, watchdogArmed: false });
  });

  it('the end of input ends the context; the reply finishes when the context is final and everything played', () => {
    const { steps } = drive([
      ...CONNECTED,
      { type: 'context', event: { type: 'audio', audio: audio(80), alignment: aligned('Hello there.', 10) }, adapterClosed: false },
      { type: 'input-end' },
      { type: 'context', event: { type: 'final' }, adapterClosed: false },
    ]);
    expect(steps.slice(-2).map(types)).toEqual([['end-context', 'arm-watchdog'], ['stop-timers', 'finish']]);
    expect(steps.at(-2)![1]).toEqual({ type: 'arm-watchdog', ms: timing.idleMs });
  });

  it('one context carries a cached piece between two socket pieces in its place', () => {
    const { all } = drive([
      { type: 'piece', text: 'One.' },
      { type: 'socket-ready', contextId: 'turn-1' },
      { type: 'context-opened', gone: false },
      { type: 'piece', text: 'Cached.', cached: [audio(2)] },
      { type: 'piece', text: 'Two.' },
      { type: 'input-end' },
      { type: 'context', event: { type: 'audio', audio: audio(160), alignment: aligned('One.Two.', 20) }, adapterClosed: false },
      { type: 'context', event: { type: 'final' }, adapterClosed: false },
    ]);
    const played = all.flatMap((c) => (c.type === 'play' ? [c.text] : []));
    expect(played).toEqual(['One.', 'Cached.', 'Two.']);
    expect(all.filter((c) => c.type === 'send-text').map((c) => (c as { text: string }).text)).toEqual(['One.', 'Two.']);
    expect(types(all).at(-1)).toBe('finish');
  });

  it('a socket lost mid-piece hands HTTP only the words not yet heard', () => {
    const text = 'Your appointment is on Tuesday.';
    const { steps } = drive([
      { type: 'piece', text },
      { type: 'socket-ready', contextId: 'turn-1' },
      { type: 'context-opened', gone: false },
      // Audio for "Your appointment" only.
      { type: 'context', event: { type: 'audio', audio: audio(40), alignment: aligned('Your appointment', 5) }, adapterClosed: false },
      { type: 'context', event: { type: 'lost', reason: 'socket closed 1006' }, adapterClosed: false },
    ]);
    expect(steps.at(-1)).toEqual([
      { type: 'note-socket-failure' },
      { type: 'report-fallback', reason: 'socket-lost', detail: 'socket closed 1006' },
      { type: 'cancel-context', contextId: 'turn-1' },
      { type: 'stop-timers' },
      { type: 'render-http', text: 'is on Tuesday.', pieceText: text },
    ]);
  });

  it('a context lost because the adapter is closing ends the reply quietly', () => {
    const { steps } = drive([...CONNECTED, { type: 'context', event: { type: 'lost', reason: 'closed' }, adapterClosed: true }]);
    expect(steps.at(-1)).toEqual([{ type: 'finish' }]);
  });

  it('abort cancels the open context once and finishes', () => {
    const { steps, state } = drive([...CONNECTED, { type: 'abort' }, { type: 'abort' }]);
    expect(steps.slice(-2)).toEqual([[{ type: 'cancel-context', contextId: 'turn-1' }, { type: 'finish' }], [{ type: 'finish' }]]);
    expect(state.contextId).toBeNull();
  });

  it('a failed text source fails the reply', () => {
    const error = new Error('brain failed');
    expect(drive([{ type: 'input-failed', error }]).steps).toEqual([[{ type: 'fail', error }]]);
  });

  it('does not change the state it was given', () => {
    const { state } = drive(CONNECTED);
    const frozen = JSON.stringify(state);
    reduceSynthesis(state, { type: 'context', event: { type: 'audio', audio: audio(80), alignment: aligned('Hello there.', 10) }, adapterClosed: false }, timing);
    expect(JSON.stringify(state)).toBe(frozen);
  });
});
