/** The live-call registry of one machine's workers, in runtime.db. Leases use this machine's clock. */
import type { ClaimResult, LiveCall, LiveCallRegistry, LiveCallState } from '../ports.js';
import type { RuntimeDb } from './runtime-db.js';
import { LIVE_CALL_COLUMNS as columns, toLiveCall, type LiveRow } from '../rows.js';

export class EmbeddedLiveCalls implements LiveCallRegistry {
  constructor(
    private readonly db: RuntimeDb,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(call: Omit<LiveCall, 'leaseUntil'>, leaseMs: number): Promise<ClaimResult> {
    const now = this.now();
    const claimed = this.db
      .prepare(
        `INSERT INTO live_calls (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (call_sid) DO UPDATE
           SET stream_sid = excluded.stream_sid, worker_id = excluded.worker_id, machine = excluded.machine,
               started_at = excluded.started_at, state = excluded.state, lease_until = excluded.lease_until
           WHERE live_calls.lease_until < ?`,
      )
      .run(call.callSid, call.streamSid, call.workerId, call.machine, call.startedAt, call.state, now + leaseMs, now);
    if (claimed.changes === 1) return { claimed: true };
    const holder = await this.get(call.callSid);
    return holder ? { claimed: false, holder } : this.claim(call, leaseMs);
  }

  async setState(callSid: string, workerId: string, state: LiveCallState): Promise<void> {
    this.db.prepare('UPDATE live_calls SET state = ? WHERE call_sid = ? AND worker_id = ?').run(state, callSid, workerId);
  }

  async release(callSid: string, workerId: string): Promise<void> {
    this.db.prepare('DELETE FROM live_calls WHERE call_sid = ? AND worker_id = ?').run(callSid, workerId);
  }

  async heartbeat(workerId: string, leaseMs: number): Promise<void> {
    this.db.prepare('UPDATE live_calls SET lease_until = ? WHERE worker_id = ?').run(this.now() + leaseMs, workerId);
  }

  async list(): Promise<LiveCall[]> {
    const rows = this.db.prepare(`SELECT ${columns} FROM live_calls WHERE lease_until >= ? ORDER BY started_at`).all(this.now()) as LiveRow[];
    return rows.map(toLiveCall);
  }

  async get(callSid: string): Promise<LiveCall | undefined> {
    const row = this.db.prepare(`SELECT ${columns} FROM live_calls WHERE call_sid = ? AND lease_until >= ?`).get(callSid, this.now()) as LiveRow | undefined;
    return row && toLiveCall(row);
  }

  async reapExpired(): Promise<LiveCall[]> {
    const rows = this.db.prepare(`DELETE FROM live_calls WHERE lease_until < ? RETURNING ${columns}`).all(this.now()) as LiveRow[];
    return rows.map(toLiveCall);
  }
}
