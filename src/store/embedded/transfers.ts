/**
 * TransferStore on the embedded SQLite database (tables from migrations 2 and 3 in database.ts). Every
 * method is a single statement, so concurrent processes on one file stay consistent; `transition`
 * is an `UPDATE … WHERE status IN (…)` whose change count says who won.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../database.js';
import type {
  AttemptPatch,
  AttemptStatus,
  CallbackRequest,
  ConversationSnapshot,
  NewAttempt,
  NewCallback,
  TransferAttempt,
  TransferStore,
} from '../transfer-store.js';
import { attemptFromRow, patchEntries, type AttemptRow, type CallbackRow, callbackFromRow } from '../transfer-rows.js';

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
    return row ? attemptFromRow(row) : null;
  }

  async attemptsFor(callSid: string): Promise<TransferAttempt[]> {
    const rows = this.db.prepare('SELECT * FROM transfer_attempts WHERE call_sid = ? ORDER BY created_at, rowid').all(callSid) as AttemptRow[];
    return rows.map(attemptFromRow);
  }

  async transition(id: string, from: readonly AttemptStatus[], status: AttemptStatus, patch: AttemptPatch = {}): Promise<TransferAttempt | null> {
    if (from.length === 0) return null;
    const entries = patchEntries(patch);
    const sets = ['status = ?', ...entries.map(([column]) => `${column} = ?`)].join(', ');
    const result = this.db
      .prepare(`UPDATE transfer_attempts SET ${sets} WHERE id = ? AND status IN (${from.map(() => '?').join(', ')})`)
      .run(status, ...entries.map(([, v]) => v), id, ...from);
    return result.changes === 1 ? this.attempt(id) : null;
  }

  async overdue(statuses: readonly AttemptStatus[], at: Date, limit = 100): Promise<TransferAttempt[]> {
    if (statuses.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT * FROM transfer_attempts WHERE status IN (${statuses.map(() => '?').join(', ')}) AND deadline_at IS NOT NULL AND deadline_at < ?
         ORDER BY deadline_at LIMIT ?`,
      )
      .all(...statuses, at.toISOString(), limit) as AttemptRow[];
    return rows.map(attemptFromRow);
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
    return (rows as CallbackRow[]).map(callbackFromRow);
  }

  async setCallbackStatus(id: string, status: CallbackRequest['status']): Promise<boolean> {
    return this.db.prepare('UPDATE callback_requests SET status = ? WHERE id = ?').run(status, id).changes === 1;
  }
}
