/**
 * The store port for hand-offs: transfer attempts, the conversation snapshot a call resumes from,
 * and callback requests. Everything a Twilio callback needs lives here, never in one process's
 * memory, so any worker can answer any callback. Adapters, over the same three tables:
 * embedded/transfers.ts (SQLite, one machine) and postgres/transfers.ts (any number of machines).
 */
import type { CallRecord } from './call-record.js';

/**
 * pending: decided, the caller hears the hold line; ringing: on hold, the person's phone rings or
 * hears the summary; answered: the person pressed 1; returning: nobody took it, the caller is
 * being brought back; resumed: the agent has them again; ended: over without a resume.
 */
export type AttemptStatus = 'pending' | 'ringing' | 'answered' | 'returning' | 'resumed' | 'ended';
/**
 * `timeout`: the person let the whisper's gather time out, or Twilio reported nothing by the
 * attempt's deadline; `cancelled`: the caller talked over the hold line and went on with the agent.
 */
export type AttemptOutcome = 'answered' | 'no-answer' | 'busy' | 'declined' | 'timeout' | 'failed' | 'caller-hung-up' | 'cancelled';

export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = ['answered', 'no-answer', 'busy', 'declined', 'timeout', 'failed', 'caller-hung-up', 'cancelled'];

export interface TransferAttempt {
  id: string;
  callSid: string;
  from: string;
  to: string;
  mode: 'warm' | 'cold';
  topic: string;
  targetLabel: string;
  targetNumber: string;
  status: AttemptStatus;
  outcome: AttemptOutcome | null;
  /** The person's leg (warm). */
  personCallSid: string | null;
  /** What the person heard before pressing 1. */
  whisper: string | null;
  createdAt: string;
  /** The caller went on hold (the conference redirect succeeded). */
  holdStartedAt: string | null;
  answeredAt: string | null;
  endedAt: string | null;
  /** Hold start → the person pressed 1. */
  timeToHumanMs: number | null;
  /**
   * While the caller is on hold: when any worker may give up on Twilio's callbacks and bring the
   * caller back (the server-side timeout; it survives the worker that put the caller on hold).
   */
  deadlineAt: string | null;
}

export type NewAttempt = Pick<TransferAttempt, 'id' | 'callSid' | 'from' | 'to' | 'mode' | 'topic' | 'targetLabel' | 'targetNumber'>;
export type AttemptPatch = Partial<Pick<TransferAttempt, 'outcome' | 'personCallSid' | 'whisper' | 'holdStartedAt' | 'answeredAt' | 'endedAt' | 'timeToHumanMs' | 'deadlineAt'>>;

/** What a call resumes from after a failed transfer: the conversation as heard, the brain's state, the record so far. */
export interface ConversationSnapshot {
  /** The conversation as the caller heard it (the dialog's ConversationTurn shape). */
  history: Array<{ role: 'agent' | 'caller'; text: string }>;
  brainState: unknown;
  record: CallRecord;
}

export interface CallbackRequest {
  id: string;
  callSid: string;
  /** Digits to call back. */
  phone: string;
  /** Preferred day and time on the clinic's clock (YYYY-MM-DD, HH:MM). */
  date: string;
  time: string;
  topic: string;
  note: string;
  status: 'open' | 'done';
  createdAt: string;
}

export type NewCallback = Pick<CallbackRequest, 'callSid' | 'phone' | 'date' | 'time' | 'topic' | 'note'>;

export interface TransferStore {
  createAttempt(attempt: NewAttempt): Promise<TransferAttempt>;
  attempt(id: string): Promise<TransferAttempt | null>;
  attemptsFor(callSid: string): Promise<TransferAttempt[]>;
  /**
   * Moves an attempt to `status` only if it is still in one of `from` (compare-and-set), so when
   * two callbacks race (a no-answer and the caller's hang-up, on two workers) exactly one acts.
   * Returns the updated attempt, or null when another writer got there first.
   */
  transition(id: string, from: readonly AttemptStatus[], status: AttemptStatus, patch?: AttemptPatch): Promise<TransferAttempt | null>;
  /** Attempts in one of `statuses` whose deadline is before `at` (callbacks that never came), oldest first. */
  overdue(statuses: readonly AttemptStatus[], at: Date, limit?: number): Promise<TransferAttempt[]>;
  saveSnapshot(callSid: string, snapshot: ConversationSnapshot): Promise<void>;
  snapshot(callSid: string): Promise<ConversationSnapshot | null>;
  addCallback(request: NewCallback): Promise<CallbackRequest>;
  callbacks(filter?: { status?: CallbackRequest['status']; limit?: number }): Promise<CallbackRequest[]>;
  setCallbackStatus(id: string, status: CallbackRequest['status']): Promise<boolean>;
}
