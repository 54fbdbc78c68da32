/**
 * The call's turn-taking rules in one place: a pure `transition(state, event) → [state, effects]`.
 * The runtime (call-session.ts) feeds it events from the VAD, recogniser, brain, playout and timers,
 * and executes the effects it returns. Nothing here touches a socket, a timer or a clock.
 */
import type { BrainInput } from './brain.js';
import type { Interjection } from './turn-taking/backchannel.js';
import type { Completeness } from './turn-taking/completeness.js';
import type { Recognition } from '../speech/stt.js';

export type Phase = 'greeting' | 'listening' | 'caller-speaking' | 'thinking' | 'speaking' | 'ended';

export interface TurnState {
  phase: Phase;
  /** Consecutive inactivity timeouts without the caller saying anything. */
  inactivityCount: number;
  /** The brain asked to hang up or transfer once its reply has played. */
  pendingExit: { kind: 'hang-up' | 'transfer'; reason: string } | null;
  /** A hang-up the caller interrupted (its reason): ends the call after all if the answer to them is silence. */
  calledOffExit?: string | null;
  /** The agent's closing words are playing (this is the end reason); nothing but the hang-up follows. */
  closing: string | null;
  /**
   * Caller speech stopped the agent's audio, but the reply is held, not thrown away, until we know
   * what was said: no words or a backchannel resumes it, real words make it an interruption.
   */
  suspended: boolean;
}

/** Why a held reply plays on. */
export type ResumeCause = 'no-words' | 'backchannel' | 'timeout';

export type TurnEvent =
  | { type: 'start' }
  | { type: 'speech-start'; agentAudioPending: boolean }
  /**
   * The caller's speech has lasted long enough to interrupt the agent. `resumable`: the reply may be
   * held and resumed if the speech turns out to be no words or a backchannel (keys never are).
   */
  | { type: 'barge-in-eligible'; agentAudioPending: boolean; bargeInEnabled: boolean; resumable?: boolean }
  /** The caller's speech over a held reply has lasted longer than a listener sound: a real interruption. */
  | { type: 'speech-long' }
  /**
   * What is recognised of the caller's words at a pause in their speech (speculative or interim):
   * how complete it is for the dialog step, and what it is as an interjection over the agent.
   */
  | { type: 'pause-words'; completeness: Completeness; interjection: Interjection }
  | { type: 'speech-end' }
  | { type: 'transcript'; text: string; confidence: number; interjection?: Interjection; recognition?: Recognition }
  /** The window for deciding about a held reply ran out. */
  | { type: 'resume-window' }
  /** A complete keypad entry (a key, or digits ended by `#` or a pause). */
  | { type: 'dtmf'; digits: string; agentAudioPending: boolean }
  /** The brain's first words of a reply: the agent is speaking now (unless the reply is held). */
  | { type: 'reply-text' }
  /** The brain finished its turn and everything it said has played (or was cleared). */
  | { type: 'reply-done'; outcome: 'played' | 'cleared'; /** the reply had no words at all */ silent?: boolean }
  | { type: 'brain-exit'; kind: 'hang-up' | 'transfer'; reason: string }
  | { type: 'brain-failed' }
  | { type: 'inactivity'; maxReprompts: number }
  | { type: 'max-duration' }
  /** Ops asked (POST /calls/:sid/hangup, from any worker): goodbye, then end with `reason`. */
  | { type: 'remote-exit'; reason: string }
  /** Ops asked to hand the caller to a person (POST /calls/:sid/transfer, no Twilio credentials): the brain takes it from here. */
  | { type: 'remote-handoff' }
  /** The closing utterance finished (played, cleared or timed out). */
  | { type: 'closing-done' }
  | { type: 'stop'; reason: string };

export type TurnEffect =
  | { type: 'run-brain'; input: BrainInput }
  /** Clear Twilio's buffer, abort in-flight brain/TTS/tool work, record the reply as interrupted. */
  | { type: 'barge-in' }
  /** Clear Twilio's buffer but keep the reply (its brain/TTS run on) to resume where the caller stopped hearing it. */
  | { type: 'suspend-reply' }
  /** Play the held reply on from where the caller stopped hearing it; record it as resumed. */
  | { type: 'resume-reply'; cause: ResumeCause }
  | { type: 'arm-resume-window' }
  | { type: 'disarm-resume-window' }
  /** End the caller's turn after this much silence, chosen from how complete their words are. */
  | { type: 'end-turn-after'; completeness: Completeness }
  | { type: 'stt-speech-start' }
  | { type: 'stt-speech-end' }
  | { type: 'arm-inactivity' }
  | { type: 'disarm-inactivity' }
  /** Abort the current turn and speak a fixed closing line, then end the call. */
  | { type: 'say-goodbye'; prompt: 'goodbye' | 'maxDuration' | 'apology' }
  | { type: 'hang-up'; reason: string }
  | { type: 'transfer'; reason: string }
  | { type: 'finalize'; reason: string };

export const initialTurnState: TurnState = {
  phase: 'greeting',
  inactivityCount: 0,
  pendingExit: null,
  closing: null,
  suspended: false,
};

type EventOf<T extends TurnEvent['type']> = Extract<TurnEvent, { type: T }>;

const agentTalking = (phase: Phase) => phase === 'greeting' || phase === 'speaking' || phase === 'thinking';

/**
 * What is left of a pending exit when the caller interrupts: a hang-up is called off (they have
 * more to say), a transfer stands. The brain has handed the call over (an attempt waits in the
 * transfer store), so a caller talking over "please hold" is put through once their words are
 * heard, instead of staying with an agent that has nothing more to say.
 */
const exitAfterInterruption = (exit: TurnState['pendingExit']) => (exit?.kind === 'transfer' ? exit : null);

/**
 * The exit fields after the caller interrupts: `exitAfterInterruption`, and a called-off hang-up
 * remembered (`calledOffExit`) so that, if the brain then has nothing to say to their words (a
 * flow that already said goodbye), the goodbye is said again and the call ends instead of waiting
 * in silence for the inactivity timeout.
 */
function interruptedExit(state: TurnState): Pick<TurnState, 'pendingExit' | 'calledOffExit'> {
  const calledOff = state.pendingExit?.kind === 'hang-up' ? state.pendingExit.reason : (state.calledOffExit ?? null);
  return { pendingExit: exitAfterInterruption(state.pendingExit), calledOffExit: calledOff };
}

export function transition(state: TurnState, event: TurnEvent): [TurnState, TurnEffect[]] {
  if (state.phase === 'ended') return [state, []];
  switch (event.type) {
    case 'start':
      return [{ ...initialTurnState, phase: 'greeting' }, [{ type: 'run-brain', input: { type: 'call-start' } }]];

    case 'speech-start':
    case 'barge-in-eligible':
    case 'speech-long':
    case 'pause-words':
    case 'resume-window':
    case 'speech-end':
      return callerSpeech(state, event);
    case 'transcript':
    case 'dtmf':
      return callerInput(state, event);
    case 'reply-text':
    case 'brain-exit':
    case 'brain-failed':
    case 'reply-done':
      return agentReply(state, event);
    default:
      return callControl(state, event);
  }
}

/** The caller's voice: onset, sustained speech over the agent, pauses and their words, the end of it. */
function callerSpeech(state: TurnState, event: EventOf<'speech-start' | 'barge-in-eligible' | 'speech-long' | 'pause-words' | 'resume-window' | 'speech-end'>): [TurnState, TurnEffect[]] {
  switch (event.type) {
    case 'speech-start':
      if (state.closing) return [state, []];
      // While the agent talks, speech only interrupts once it is sustained (barge-in-eligible).
      if (agentTalking(state.phase) && event.agentAudioPending) return [state, [{ type: 'stt-speech-start' }]];
      return [
        { ...state, phase: 'caller-speaking' },
        [{ type: 'disarm-inactivity' }, { type: 'stt-speech-start' }],
      ];

    case 'barge-in-eligible':
      if (state.closing || !event.bargeInEnabled) return [state, []];
      if (agentTalking(state.phase) && event.agentAudioPending) {
        if (event.resumable) {
          return [
            { ...state, phase: 'caller-speaking', suspended: true },
            [{ type: 'suspend-reply' }, { type: 'disarm-inactivity' }, { type: 'arm-resume-window' }],
          ];
        }
        return [
          { ...state, phase: 'caller-speaking', ...interruptedExit(state) },
          [{ type: 'barge-in' }, { type: 'disarm-inactivity' }],
        ];
      }
      return [state, []];

    case 'speech-long':
      if (!state.suspended || state.closing) return [state, []];
      return [{ ...state, suspended: false, ...interruptedExit(state) }, [{ type: 'disarm-resume-window' }, { type: 'barge-in' }]];

    case 'pause-words': {
      if (state.closing || state.phase !== 'caller-speaking') return [state, []];
      // Over a held reply, no words or a listener sound should hand the floor back at once.
      const completeness = state.suspended && event.interjection !== 'barge-in' ? 'complete' : event.completeness;
      return [state, [{ type: 'end-turn-after', completeness }]];
    }

    case 'resume-window':
      if (!state.suspended || state.closing) return [state, []];
      // Still talking after the window: it is a real interruption. Otherwise nothing usable came.
      if (state.phase === 'caller-speaking') return [{ ...state, suspended: false, ...interruptedExit(state) }, [{ type: 'barge-in' }]];
      return [{ ...state, phase: 'speaking', suspended: false }, [{ type: 'resume-reply', cause: 'timeout' }]];

    case 'speech-end':
      if (state.phase !== 'caller-speaking') return [state, [{ type: 'stt-speech-end' }]];
      return [{ ...state, phase: 'thinking' }, [{ type: 'stt-speech-end' }]];
  }
}

/** What the caller said or keyed: answered, or (over a held reply) resumed past. */
function callerInput(state: TurnState, event: EventOf<'transcript' | 'dtmf'>): [TurnState, TurnEffect[]] {
  switch (event.type) {
    case 'transcript': {
      if (state.closing) return [state, []];
      if (state.suspended) return heldReplyTranscript(state, event);
      // A transcript of speech the agent talked over (not a barge-in) is dropped, not answered twice.
      if (state.phase !== 'thinking' && state.phase !== 'caller-speaking' && state.phase !== 'listening') {
        return [state, []];
      }
      const input: BrainInput =
        event.text.trim() === ''
          ? { type: 'no-match' }
          : { type: 'speech', text: event.text, confidence: event.confidence, ...(event.recognition ? { recognition: event.recognition } : {}) };
      return [
        { ...state, phase: 'thinking', inactivityCount: 0 },
        [{ type: 'disarm-inactivity' }, { type: 'run-brain', input }],
      ];
    }

    case 'dtmf': {
      if (state.closing) return [state, []];
      const effects: TurnEffect[] = [];
      if (state.suspended) effects.push({ type: 'barge-in' }, { type: 'disarm-resume-window' });
      else if (agentTalking(state.phase) && event.agentAudioPending) effects.push({ type: 'barge-in' });
      effects.push({ type: 'disarm-inactivity' }, { type: 'run-brain', input: { type: 'dtmf', digits: event.digits } });
      return [{ ...state, phase: 'thinking', inactivityCount: 0, ...interruptedExit(state), suspended: false }, effects];
    }
  }
}

/** The agent's reply: speaking, played through, failed, or asking to end the call after it. */
function agentReply(state: TurnState, event: EventOf<'reply-text' | 'brain-exit' | 'brain-failed' | 'reply-done'>): [TurnState, TurnEffect[]] {
  switch (event.type) {
    case 'reply-text':
      // A held reply stays held while the caller's words are decided.
      if (state.suspended || (state.phase !== 'thinking' && state.phase !== 'listening')) return [state, []];
      return [{ ...state, phase: 'speaking' }, []];

    case 'brain-exit':
      return [{ ...state, pendingExit: { kind: event.kind, reason: event.reason } }, []];

    case 'brain-failed':
      return [{ ...state, closing: 'error' }, [{ type: 'disarm-inactivity' }, { type: 'say-goodbye', prompt: 'apology' }]];

    case 'reply-done': {
      if (state.closing) return [state, []];
      if (event.outcome === 'cleared' || state.suspended) return [state, []]; // barge-in already moved us on
      if (state.pendingExit) {
        const exit = state.pendingExit;
        const effect: TurnEffect =
          exit.kind === 'transfer' ? { type: 'transfer', reason: exit.reason } : { type: 'hang-up', reason: exit.reason };
        return [{ ...state, phase: 'ended', pendingExit: null }, [effect, { type: 'finalize', reason: exit.reason }]];
      }
      if (state.phase === 'caller-speaking') return [state, []];
      if (state.calledOffExit && event.silent) {
        const reason = state.calledOffExit;
        return [{ ...state, calledOffExit: null, closing: reason }, [{ type: 'disarm-inactivity' }, { type: 'say-goodbye', prompt: 'goodbye' }]];
      }
      return [{ ...state, phase: 'listening', calledOffExit: null }, [{ type: 'arm-inactivity' }]];
    }
  }
}

/** Timers and the ends of a call. */
function callControl(state: TurnState, event: EventOf<'inactivity' | 'max-duration' | 'remote-exit' | 'remote-handoff' | 'closing-done' | 'stop'>): [TurnState, TurnEffect[]] {
  switch (event.type) {
    case 'inactivity': {
      if (state.phase !== 'listening' || state.closing) return [state, []];
      const count = state.inactivityCount + 1;
      if (count > event.maxReprompts) {
        return [{ ...state, inactivityCount: count, closing: 'inactivity' }, [{ type: 'say-goodbye', prompt: 'goodbye' }]];
      }
      return [
        { ...state, phase: 'thinking', inactivityCount: count },
        [{ type: 'run-brain', input: { type: 'no-input' } }],
      ];
    }

    case 'max-duration':
      if (state.closing) return [state, []];
      return [
        { ...state, closing: 'max-duration' },
        [{ type: 'disarm-inactivity' }, { type: 'say-goodbye', prompt: 'maxDuration' }],
      ];

    case 'remote-exit':
      if (state.closing) return [state, []];
      return [{ ...state, closing: event.reason }, [{ type: 'disarm-inactivity' }, { type: 'say-goodbye', prompt: 'goodbye' }]];

    case 'remote-handoff':
      // Already on the way out (closing, or a hand-over pending): nothing more to do.
      if (state.closing || state.pendingExit) return [state, []];
      return [
        { ...state, phase: 'thinking', inactivityCount: 0 },
        [{ type: 'disarm-inactivity' }, { type: 'run-brain', input: { type: 'handoff-request' } }],
      ];

    case 'closing-done': {
      const reason = state.closing ?? 'agent-hangup';
      return [{ ...state, phase: 'ended' }, [{ type: 'hang-up', reason }, { type: 'finalize', reason }]];
    }

    case 'stop':
      return [
        { ...state, phase: 'ended', suspended: false },
        [{ type: 'disarm-inactivity' }, { type: 'disarm-resume-window' }, { type: 'finalize', reason: event.reason }],
      ];
  }
}


/** The caller's words over a held reply decide: play it on, or treat them as a new turn. */
function heldReplyTranscript(state: TurnState, event: EventOf<'transcript'>): [TurnState, TurnEffect[]] {
  const kind = event.interjection ?? (event.text.trim() === '' ? 'none' : 'barge-in');
  if (kind !== 'barge-in') {
    const cause: ResumeCause = kind === 'none' ? 'no-words' : 'backchannel';
    return [{ ...state, phase: 'speaking', suspended: false }, [{ type: 'disarm-resume-window' }, { type: 'resume-reply', cause }]];
  }
  return [
    { ...state, phase: 'thinking', inactivityCount: 0, suspended: false, ...interruptedExit(state) },
    [
      { type: 'disarm-resume-window' },
      { type: 'barge-in' },
      { type: 'disarm-inactivity' },
      { type: 'run-brain', input: { type: 'speech', text: event.text, confidence: event.confidence } },
    ],
  ];
}
