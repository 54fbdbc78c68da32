/** Call records in PostgreSQL: one JSONB row per call, upserted at the call's start and end. */
import type { CallRecord } from '../call-record.js';
import type { CallRecordPort } from '../ports.js';
import { query, type Pool } from './pool.js';

export class PostgresCallRecords implements CallRecordPort {
  constructor(private readonly pool: Pool) {}

  async save(record: CallRecord): Promise<void> {
    // A late write of the start snapshot (e.g. flushed from the spool) never replaces the
    // finished record.
    await query(
      this.pool,
      `INSERT INTO call_records (call_sid, started_at, ended_at, record, updated_at)
       VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (call_sid) DO UPDATE
         SET ended_at = EXCLUDED.ended_at, record = EXCLUDED.record, updated_at = now()
         WHERE call_records.ended_at IS NULL OR EXCLUDED.ended_at IS NOT NULL`,
      [record.callSid, record.startedAt, record.endedAt, JSON.stringify(record)],
    );
  }

  async get(callSid: string): Promise<CallRecord | undefined> {
    const result = await query<{ record: CallRecord }>(this.pool, 'SELECT record FROM call_records WHERE call_sid = $1', [callSid]);
    return result.rows[0]?.record;
  }
}
