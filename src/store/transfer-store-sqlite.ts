/**
 * TransferStore on the embedded SQLite database (tables from migration 2 in database.ts). Every
 * method is a single statement, so concurrent processes on one file stay consistent; `transition`
 * is an `UPDATE … WHERE status IN (…)` whose change count says who won.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from './database.js';
import type {
  AttemptPatch,
  AttemptStatus,
  CallbackRequest,
  ConversationSnapshot,
  NewAttempt,
  NewCallback,
  TransferAttempt,
  TransferStore,
} from './transfer-store.js';

interface AttemptRow {
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
  created_at: string;
  hold_started_at: string | null;
  answered_at: string | null;
  ended_at: string | null;
  time_to_human_ms: number | null;
}

const PATCH_COLUMNS: Record<keyof AttemptPatch, string> = {
  outcome: 'outcome',
  personCallSid: 'person_call_sid',
  whisper: 'whisper',
  holdStartedAt: 'hold_started_at',
  answeredAt: 'answered_at',
  endedAt: 'ended_at',
  timeToHumanMs: 'time_to_human_ms',
};

export class SqliteTransferStore implements TransferStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  async createAttempt(a: NewAttempt): Promise<TransferAttempt> {
    const createdAt = new Date(this.now()).toISOString();
    this.db
      .prepare(
        `INSERT INTO transfer_attempts (id, call_sid, from_number, to_number, mode, topic, target_label, target_number, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
      )
      .run(a.id, a.callSid, a.from, a.to, a.mode, a.topic, a.targetLabel, a.targetNumber, createdAt);
    return (await this.attempt(a.id))!;
  }

  async attempt(id: string): Promise<TransferAttempt | null> {
    const row = this.db.prepare('SELECT * FROM transfer_attempts WHERE id = ?').get(id) as AttemptRow | undefined;
    return row ? fromRow(row) : null;
  }

  async attemptsFor(callSid: string): Promise<TransferAttempt[]> {
    const rows = this.db.prepare('SELECT * FROM transfer_attempts WHERE call_sid = ? ORDER BY created_at, rowid').all(callSid) as AttemptRow[];
    return rows.map(fromRow);
  }

  async transition(id: string, from: readonly AttemptStatus[], status: AttemptStatus, patch: AttemptPatch = {}): Promise<TransferAttempt | null> {
    if (from.length === 0) return null;
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined) as [keyof AttemptPatch, unknown][];
    const sets = ['status = ?', ...entries.map(([k]) => `${PATCH_COLUMNS[k]} = ?`)].join(', ');
    const result = this.db
      .prepare(`UPDATE transfer_attempts SET ${sets} WHERE id = ? AND status IN (${from.map(() => '?').join(', ')})`)
      .run(status, ...entries.map(([, v]) => v), id, ...from);
    return result.changes === 1 ? this.attempt(id) : null;
  }

  async saveSnapshot(callSid: string, snapshot: ConversationSnapshot): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO call_snapshots (call_sid, snapshot, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (call_sid) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at`,
      )
      .run(callSid, JSON.stringify(snapshot), new Date(this.now()).toISOString());
  }

  async snapshot(callSid: string): Promise<ConversationSnapshot | null> {
    const row = this.db.prepare('SELECT snapshot FROM call_snapshots WHERE call_sid = ?').get(callSid) as { snapshot: string } | undefined;
    return row ? (JSON.parse(row.snapshot) as ConversationSnapshot) : null;
  }

  async addCallback(request: NewCallback): Promise<CallbackRequest> {
    const created: CallbackRequest = { id: randomUUID(), ...request, status: 'open', createdAt: new Date(this.now()).toISOString() };
    this.db
      .prepare(
        `INSERT INTO callback_requests (id, call_sid, phone, date, time, topic, note, status, created_at)
         VALUES (@id, @callSid, @phone, @date, @time, @topic, @note, @status, @createdAt)`,
      )
      .run(created);
    return created;
  }

  async callbacks(filter: { status?: CallbackRequest['status']; limit?: number } = {}): Promise<CallbackRequest[]> {
    const limit = Math.max(1, Math.min(filter.limit ?? 100, 1000));
    const rows = filter.status
      ? this.db.prepare('SELECT * FROM callback_requests WHERE status = ? ORDER BY date, time, created_at LIMIT ?').all(filter.status, limit)
      : this.db.prepare('SELECT * FROM callback_requests ORDER BY date, time, created_at LIMIT ?').all(limit);
    return (rows as Array<Record<string, string>>).map((r) => ({
      id: r.id!,
      callSid: r.call_sid!,
      phone: r.phone!,
      date: r.date!,
      time: r.time!,
      topic: r.topic!,
      note: r.note!,
      status: r.status as CallbackRequest['status'],
      createdAt: r.created_at!,
    }));
  }

  async setCallbackStatus(id: string, status: CallbackRequest['status']): Promise<boolean> {
    return this.db.prepare('UPDATE callback_requests SET status = ? WHERE id = ?').run(status, id).changes === 1;
  }
}

function fromRow(r: AttemptRow): TransferAttempt {
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
    createdAt: r.created_at,
    holdStartedAt: r.hold_started_at,
    answeredAt: r.answered_at,
    endedAt: r.ended_at,
    timeToHumanMs: r.time_to_human_ms,
  };
}
