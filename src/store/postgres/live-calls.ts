/**
 * The live-call registry in PostgreSQL. Leases are computed with the database's clock (`now()`),
 * so machines with skewed clocks agree on who still holds a call.
 */
import type { ClaimResult, LiveCall, LiveCallRegistry, LiveCallState } from '../ports.js';
import { query, type Pool } from './pool.js';
import { LIVE_CALL_COLUMNS as columns, toLiveCall, type LiveRow } from '../rows.js';

export class PostgresLiveCalls implements LiveCallRegistry {
  constructor(private readonly pool: Pool) {}

  async claim(call: Omit<LiveCall, 'leaseUntil'>, leaseMs: number): Promise<ClaimResult> {
    // Insert, or take over a row whose lease has expired; a row still leased is left alone and
    // RETURNING comes back empty.
    const result = await query(
      this.pool,
      `INSERT INTO live_calls (${columns})
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::double precision / 1000))
       ON CONFLICT (call_sid) DO UPDATE
         SET stream_sid = EXCLUDED.stream_sid, worker_id = EXCLUDED.worker_id, machine = EXCLUDED.machine,
             started_at = EXCLUDED.started_at, state = EXCLUDED.state, lease_until = EXCLUDED.lease_until
         WHERE live_calls.lease_until < now()
       RETURNING call_sid`,
      [call.callSid, call.streamSid, call.workerId, call.machine, call.startedAt, call.state, leaseMs],
    );
    if (result.rowCount === 1) return { claimed: true };
    const holder = await this.get(call.callSid);
    // The holder released it between our insert and read: try once more.
    if (!holder) return this.claim(call, leaseMs);
    return { claimed: false, holder };
  }

  async setState(callSid: string, workerId: string, state: LiveCallState): Promise<void> {
    await query(this.pool, 'UPDATE live_calls SET state = $3 WHERE call_sid = $1 AND worker_id = $2', [callSid, workerId, state]);
  }

  async release(callSid: string, workerId: string): Promise<void> {
    await query(this.pool, 'DELETE FROM live_calls WHERE call_sid = $1 AND worker_id = $2', [callSid, workerId]);
  }

  async heartbeat(workerId: string, leaseMs: number): Promise<void> {
    await query(
      this.pool,
      `UPDATE live_calls SET lease_until = now() + make_interval(secs => $2::double precision / 1000) WHERE worker_id = $1`,
      [workerId, leaseMs],
    );
  }

  async list(): Promise<LiveCall[]> {
    const result = await query<LiveRow>(this.pool, `SELECT ${columns} FROM live_calls WHERE lease_until >= now() ORDER BY started_at`);
    return result.rows.map(toLiveCall);
  }

  async get(callSid: string): Promise<LiveCall | undefined> {
    const result = await query<LiveRow>(this.pool, `SELECT ${columns} FROM live_calls WHERE call_sid = $1 AND lease_until >= now()`, [callSid]);
    return result.rows[0] && toLiveCall(result.rows[0]);
  }

  async reapExpired(): Promise<LiveCall[]> {
    const result = await query<LiveRow>(this.pool, `DELETE FROM live_calls WHERE lease_until < now() RETURNING ${columns}`);
    return result.rows.map(toLiveCall);
  }
}
