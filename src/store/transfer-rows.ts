/**
 * Row ↔ object mapping for the transfer tables, shared by the SQLite and PostgreSQL adapters
 * (same column names; SQLite hands back ISO text, PostgreSQL Date objects for timestamptz).
 */
import type { AttemptPatch, AttemptStatus, CallbackRequest, TransferAttempt } from './transfer-store.js';

type Timestamp = string | Date;

export interface AttemptRow {
  id: string;
  call_sid: string;
  from_number: string;
  to_number: string;
  mode: 'warm' | 'cold';
  topic: string;
  target_label: string;
  target_number: string;
  status: AttemptStatus;
  outcome: TransferAttempt['outcome'];
  person_call_sid: string | null;
  whisper: string | null;
  created_at: Timestamp;
  hold_started_at: Timestamp | null;
  answered_at: Timestamp | null;
  ended_at: Timestamp | null;
  time_to_human_ms: number | string | null;
  deadline_at: Timestamp | null;
}

export interface CallbackRow {
  id: string;
  call_sid: string;
  phone: string;
  date: string;
  time: string;
  topic: string;
  note: string;
  status: CallbackRequest['status'];
  created_at: Timestamp;
}

/** The column each patchable field is stored in. */
export const ATTEMPT_PATCH_COLUMNS: Record<keyof AttemptPatch, string> = {
  outcome: 'outcome',
  personCallSid: 'person_call_sid',
  whisper: 'whisper',
  holdStartedAt: 'hold_started_at',
  answeredAt: 'answered_at',
  endedAt: 'ended_at',
  timeToHumanMs: 'time_to_human_ms',
  deadlineAt: 'deadline_at',
};

/** The patch's set fields, in a stable order, with their columns. */
export function patchEntries(patch: AttemptPatch): Array<[column: string, value: unknown]> {
  return (Object.keys(ATTEMPT_PATCH_COLUMNS) as Array<keyof AttemptPatch>)
    .filter((key) => patch[key] !== undefined)
    .map((key) => [ATTEMPT_PATCH_COLUMNS[key], patch[key]]);
}

const iso = (value: Timestamp): string => (value instanceof Date ? value.toISOString() : value);
const isoOrNull = (value: Timestamp | null): string | null => (value === null ? null : iso(value));

export function attemptFromRow(r: AttemptRow): TransferAttempt {
  return {
    id: r.id,
    callSid: r.call_sid,
    from: r.from_number,
    to: r.to_number,
    mode: r.mode,
    topic: r.topic,
    targetLabel: r.target_label,
    targetNumber: r.target_number,
    status: r.status,
    outcome: r.outcome,
    personCallSid: r.person_call_sid,
    whisper: r.whisper,
    createdAt: iso(r.created_at),
    holdStartedAt: isoOrNull(r.hold_started_at),
    answeredAt: isoOrNull(r.answered_at),
    endedAt: isoOrNull(r.ended_at),
    timeToHumanMs: r.time_to_human_ms === null ? null : Number(r.time_to_human_ms),
    deadlineAt: isoOrNull(r.deadline_at),
  };
}

export function callbackFromRow(r: CallbackRow): CallbackRequest {
  return {
    id: r.id,
    callSid: r.call_sid,
    phone: r.phone,
    date: r.date,
    time: r.time,
    topic: r.topic,
    note: r.note,
    status: r.status,
    createdAt: iso(r.created_at),
  };
}
