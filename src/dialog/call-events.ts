/**
 * What a call session reports to an observer while the call runs (the browser phone's live view).
 * Emitted at the points where the session already records turns and metrics, so the observer sees
 * exactly what the call record will hold, as it happens.
 */
import type { TurnMetrics } from '../store/call-record.js';

export type CallSessionEvent =
  | { type: 'call-started'; callSid: string; streamSid: string }
  /** The caller's turn as the brain receives it (speech transcript or keypad digits). */
  | { type: 'caller-turn'; turnId: number; text: string; input: 'speech' | 'dtmf' | 'no-match' }
  /** An agent utterance that played through (`text` is what the caller heard). */
  | { type: 'agent-turn'; text: string }
  /** A barge-in: the agent was cut off after `heardText` of `text`. */
  | { type: 'agent-interrupted'; text: string; heardText: string }
  /** Stage timings of caller turn `turnId`; sent again whenever a later stage fills one in. */
  | { type: 'turn-metrics'; turnId: number; metrics: TurnMetrics }
  | { type: 'call-ended'; reason: string };
