/**
 * The transfer store in PostgreSQL (migration 1765000000000_transfer-state.sql): what a warm
 * transfer's callbacks need, shared by every machine, so the instance Twilio calls back need not
 * be the one that put the caller on hold. `transition` is a compare-and-set,
 * `UPDATE … WHERE status = ANY($2) RETURNING`: of two callbacks racing on two machines (a
 * no-answer and the caller's hang-up), exactly one gets the row back and acts.
 */
import { randomUUID } from 'node:crypto';
import { attemptFromRow, callbackFromRow, patchEntries, type AttemptRow, type CallbackRow } from '../transfer-rows.js';
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
import { query, type Pool } from './pool.js';

const attemptColumns =
  'id, call_sid, from_number, to_number, mode, topic, target_label, target_number, status, outcome, person_call_sid, whisper, ' +
  'created_at, hold_started_at, answered_at, ended_at, time_to_human_ms, deadline_at';
const callbackColumns = 'id, call_sid, phone, date, time, topic, note, status, created_at';

export class PostgresTransferStore implements TransferStore {
  constructor(
    private readonly pool: Pool,
    private readonly now: () => number = Date.now,
  ) {}

  async createAttempt(a: NewAttempt): Promise<TransferAttempt> {
    const result = await query<AttemptRow>(
      this.pool,
      `INSERT INTO transfer_attempts (id, call_sid, from_number, to_number, mode, topic, target_label, target_number, status, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9) RETURNING ${attemptColumns}`,
      [a.id, a.callSid, a.from, a.to, a.mode, a.topic, a.targetLabel, a.targetNumber, new Date(this.now())],
    );
    return attemptFromRow(result.rows[0]!);
  }

  async attempt(id: string): Promise<TransferAttempt | null> {
    // Ids come from Twilio callback URLs: anything that is not a uuid is simply unknown.
    if (!UUID.test(id)) return null;
    const result = await query<AttemptRow>(this.pool, `SELECT ${attemptColumns} FROM transfer_attempts WHERE id = $1`, [id]);
    return result.rows[0] ? attemptFromRow(result.rows[0]) : null;
  }

  async attemptsFor(callSid: string): Promise<TransferAttempt[]> {
    const result = await query<AttemptRow>(this.pool, `SELECT ${attemptColumns} FROM transfer_attempts WHERE call_sid = $1 ORDER BY seq`, [callSid]);
    return result.rows.map(attemptFromRow);
  }

  async transition(id: string, from: readonly AttemptStatus[], status: AttemptStatus, patch: AttemptPatch = {}): Promise<TransferAttempt | null> {
    if (from.length === 0 || !UUID.test(id)) return null;
    const entries = patchEntries(patch);
    const sets = ['status = $3', ...entries.map(([column], i) => `${column} = $${i + 4}`)].join(', ');
    const result = await query<AttemptRow>(
      this.pool,
      `UPDATE transfer_attempts SET ${sets} WHERE id = $1 AND status = ANY($2::text[]) RETURNING ${attemptColumns}`,
      [id, [...from], status, ...entries.map(([, value]) => value)],
    );
    return result.rows[0] ? attemptFromRow(result.rows[0]) : null;
  }

  async overdue(statuses: readonly AttemptStatus[], at: Date, limit = 100): Promise<TransferAttempt[]> {
    if (statuses.length === 0) return [];
    const result = await query<AttemptRow>(
      this.pool,
      `SELECT ${attemptColumns} FROM transfer_attempts
       WHERE status = ANY($1::text[]) AND deadline_at IS NOT NULL AND deadline_at < $2
       ORDER BY deadline_at LIMIT $3`,
      [[...statuses], at, limit],
    );
    return result.rows.map(attemptFromRow);
  }

  async saveSnapshot(callSid: string, snapshot: ConversationSnapshot): Promise<void> {
    await query(
      this.pool,
      `INSERT INTO call_snapshots (call_sid, snapshot, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (call_sid) DO UPDATE SET snapshot = EXCLUDED.snapshot, updated_at = EXCLUDED.updated_at`,
      [callSid, JSON.stringify(snapshot), new Date(this.now())],
    );
  }

  async snapshot(callSid: string): Promise<ConversationSnapshot | null> {
    const result = await query<{ snapshot: ConversationSnapshot }>(this.pool, 'SELECT snapshot FROM call_snapshots WHERE call_sid = $1', [callSid]);
    return result.rows[0]?.snapshot ?? null;
  }

  async addCallback(request: NewCallback): Promise<CallbackRequest> {
    const result = await query<CallbackRow>(
      this.pool,
      `INSERT INTO callback_requests (${callbackColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8) RETURNING ${callbackColumns}`,
      [randomUUID(), request.callSid, request.phone, request.date, request.time, request.topic, request.note, new Date(this.now())],
    );
    return callbackFromRow(result.rows[0]!);
  }

  async callbacks(filter: { status?: CallbackRequest['status']; limit?: number } = {}): Promise<CallbackRequest[]> {
    const limit = Math.max(1, Math.min(filter.limit ?? 100, 1000));
    const result = await query<CallbackRow>(
      this.pool,
      `SELECT ${callbackColumns} FROM callback_requests WHERE ($1::text IS NULL OR status = $1) ORDER BY date, time, created_at LIMIT $2`,
      [filter.status ?? null, limit],
    );
    return result.rows.map(callbackFromRow);
  }

  async setCallbackStatus(id: string, status: CallbackRequest['status']): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const result = await query(this.pool, 'UPDATE callback_requests SET status = $2 WHERE id = $1', [id, status]);
    return result.rowCount === 1;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
