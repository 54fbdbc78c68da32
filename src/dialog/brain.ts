/**
 * The dialog brain: one `BrainSession` per call, one `turn()` per caller turn. Both the offline
 * flow engine and the LLM brain implement it. Tool calls happen inside the brain, through the
 * per-call gated invoker it is given (tool-invoker.ts): the brain never holds the tool runner, and
 * the invoker runs a tool with critical arguments only after the caller confirmed exactly those
 * values. The brain reports each run as a `tool-call` event carrying the invoker's record, so the
 * session can log it.
 */
import type { Recognition, SttHints } from '../speech/stt.js';
import type { ToolCallRecord } from '../tools/tool-call-record.js';

export type { ToolCallRecord } from '../tools/tool-call-record.js';

export type BrainInput =
  /** The stream started: produce the greeting. */
  | { type: 'call-start' }
  /** `recognition`: both offline passes, when the recogniser ran them (the flow brain weighs them). */
  | { type: 'speech'; text: string; confidence: number; recognition?: Recognition }
  /** Keypad digits; a menu key or a digit string ended by `#` (or by a pause). */
  | { type: 'dtmf'; digits: string }
  /** The caller said nothing for the inactivity timeout. */
  | { type: 'no-input' }
  /** The caller spoke but the recogniser returned nothing usable. */
  | { type: 'no-match' };

export type BrainEvent =
  /** Reply text, in order; may be whole sentences or small deltas. */
  | { type: 'text'; text: string }
  | { type: 'tool-call'; call: ToolCallRecord }
  /** Confirmed slot values (only values the caller has explicitly confirmed). */
  | { type: 'slots'; slots: Record<string, string> }
  /**
   * What the caller's next turn is expected to contain (drives per-turn grammars). `keypad` says how
   * key presses are collected: `single` (a menu: each key is an entry) or `digits` (a number: keys
   * are gathered until `#` or a pause; `*` restarts).
   */
  | { type: 'listen'; hints: SttHints; intent?: string; keypad?: 'single' | 'digits' }
  /** Hang up after the reply has been played. */
  | { type: 'end-call'; reason: string }
  /** Hand the call to a person after the reply has been played. */
  | { type: 'transfer'; reason: string };

export interface ConversationTurn {
  role: 'agent' | 'caller';
  /** For agent turns, what the caller actually heard (a barge-in cuts it). */
  text: string;
}

export interface BrainTurnOptions {
  signal: AbortSignal;
  /** The conversation so far, as heard. */
  history: readonly ConversationTurn[];
  /**
   * When the caller's turn ended (their last word), on the monotonic clock (`performance.now()`
   * unless the brain was given another): the caller has been waiting since then, so a brain's
   * retry budget counts from it. Unset for turns nobody is waiting on (greeting, reprompts).
   */
  turnEndedAtMs?: number;
}

export interface BrainSession {
  turn(input: BrainInput, options: BrainTurnOptions): AsyncIterable<BrainEvent>;
  /** The caller barged in: only `heardText` of the last reply reached them. */
  interrupted?(heardText: string): void;
  /** The dialog state as plain JSON, stored when the call leaves the agent (warm transfer) so it can resume. */
  snapshot?(): unknown;
}

export interface CallContext {
  callSid: string;
  from: string;
  to: string;
  /**
   * The call is back from a transfer nobody took: `brainState` is what `snapshot()` returned; the
   * brain's `call-start` turn then speaks `reason` instead of the greeting and offers a callback.
   */
  resume?: { brainState: unknown; reason: 'transfer-failed' };
}

export interface Brain {
  readonly name: string;
  createSession(context: CallContext): BrainSession;
}
