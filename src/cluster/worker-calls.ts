/**
 * This worker's side of the live-call registry: claims a call when its media stream starts
 * (refusing a duplicate stream for a call live elsewhere), renews the leases of its calls with a
 * heartbeat, releases a call when it ends, reaps calls whose worker died (their lease ran out:
 * the row goes and the call record is closed as `worker-lost`), and runs the commands other
 * workers address to its calls.
 *
 * A database outage never refuses or drops a call: a claim that cannot be written is let through
 * (logged; the call simply is not listed until the next heartbeat re-claims it).
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { emptyUsage } from '../observability/cost.js';
import type { CallRecord } from '../store/call-record.js';
import type { CallCommand, LiveCall, LiveCallState, StateStore } from '../store/ports.js';
import { StoreUnavailableError } from '../store/store-errors.js';

/** What a worker can do to a call it holds. */
export interface LocalCallControl {
  /** Whether the call's media stream is on this worker. */
  has(callSid: string): boolean;
  /** Goodbye, then hang up. False when the call is not held here (any more). */
  hangup(callSid: string): boolean;
  /** Hand the caller to a person (`to`, else the configured number). False when not held here. */
  transfer(callSid: string, to: string | undefined): boolean;
}

export interface WorkerCallsOptions {
  store: StateStore;
  logger: Logger;
  local: LocalCallControl;
  /** How long a claim stays good without a heartbeat; heartbeats run at a third of it. */
  leaseMs: number;
  machine?: string;
  pid?: number;
}

export type ClaimOutcome = { ok: true } | { ok: false; holder: LiveCall };

export class WorkerCalls {
  readonly machine: string;
  readonly workerId: string;
  /** Calls this worker holds, with what it needs to re-claim them after an outage. */
  private readonly held = new Map<string, Omit<LiveCall, 'leaseUntil'>>();
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(private readonly options: WorkerCallsOptions) {
    this.machine = options.machine ?? hostname();
    this.workerId = `${this.machine}:${options.pid ?? process.pid}`;
  }

  get store(): StateStore {
    return this.options.store;
  }

  async start(): Promise<void> {
    const { leaseMs } = this.options;
    this.unsubscribe = await this.options.store.commands.subscribe(this.workerId, (command) => void this.run(command));
    const every = (ms: number, work: () => Promise<void>) => {
      const timer = setInterval(() => void work().catch((error: unknown) => this.warn(error, 'registry upkeep failed')), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(Math.max(200, Math.floor(leaseMs / 3)), () => this.heartbeat());
    // Reaping is idempotent, so every worker may do it; jitter spreads them out.
    every(Math.max(500, leaseMs + Math.floor(Math.random() * 1000)), () => this.reap().then(() => undefined));
  }

  async claim(call: { callSid: string; streamSid: string; startedAt: string }): Promise<ClaimOutcome> {
    const row = { ...call, workerId: this.workerId, machine: this.machine, state: 'live' as LiveCallState };
    try {
      const result = await this.options.store.liveCalls.claim(row, this.options.leaseMs);
      if (!result.claimed) return { ok: false, holder: result.holder };
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      this.warn(error, 'live-call registry unavailable: taking the call unregistered');
    }
    this.held.set(call.callSid, row);
    return { ok: true };
  }

  async setState(callSid: string, state: LiveCallState): Promise<void> {
    const row = this.held.get(callSid);
    if (!row) return;
    row.state = state;
    await this.options.store.liveCalls.setState(callSid, this.workerId, state).catch((error: unknown) => this.warn(error, 'could not update a live call'));
  }

  async release(callSid: string): Promise<void> {
    this.held.delete(callSid);
    await this.options.store.liveCalls.release(callSid, this.workerId).catch((error: unknown) => this.warn(error, 'could not release a live call'));
  }

  /** Renews this worker's leases; re-claims calls the registry lost (taken unregistered in an outage). */
  async heartbeat(): Promise<void> {
    if (this.held.size === 0) return;
    await this.options.store.liveCalls.heartbeat(this.workerId, this.options.leaseMs);
    const listed = new Set((await this.options.store.liveCalls.list()).filter((c) => c.workerId === this.workerId).map((c) => c.callSid));
    for (const [callSid, row] of this.held) {
      if (!listed.has(callSid)) await this.options.store.liveCalls.claim(row, this.options.leaseMs);
    }
  }

  /**
   * Ends the registry rows (and open call records) of calls whose worker stopped heartbeating. A
   * worker killed before its call's start snapshot reached the store leaves no record: the
   * registry row is all that is known, so that becomes the record (a lost call is never silent).
   */
  async reap(): Promise<LiveCall[]> {
    const lost = await this.options.store.liveCalls.reapExpired();
    for (const call of lost) {
      const record = await this.options.store.callRecords.get(call.callSid);
      const endedAt = new Date().toISOString();
      if (!record) await this.options.store.callRecords.save(lostCallRecord(call, endedAt));
      else if (!record.endedAt) await this.options.store.callRecords.save({ ...record, endedAt, endReason: 'worker-lost' });
      this.options.logger.warn({ callSid: call.callSid, workerId: call.workerId }, 'live call lost with its worker (lease expired)');
    }
    return lost;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.unsubscribe?.();
  }

  private async run(command: CallCommand): Promise<void> {
    const { local } = this.options;
    const done = command.kind === 'hangup' ? local.hangup(command.callSid) : local.transfer(command.callSid, command.to);
    this.options.logger.info({ callSid: command.callSid, command: command.kind, from: 'store', done }, 'call command received');
    await this.options.store.commands
      .complete(command.id, done ? 'done' : 'not-live')
      .catch((error: unknown) => this.warn(error, 'could not mark a call command done'));
  }

  private warn(error: unknown, message: string): void {
    this.options.logger.warn({ err: error }, message);
  }
}

/** The record of a lost call known only from its registry row. */
export function lostCallRecord(call: LiveCall, endedAt: string): CallRecord {
  const unknown = 'unknown';
  return {
    callSid: call.callSid,
    streamSid: call.streamSid,
    from: '',
    to: '',
    startedAt: call.startedAt,
    endedAt,
    endReason: 'worker-lost',
    engines: { stt: unknown, llm: unknown, tts: unknown, vad: unknown },
    turns: [],
    toolCalls: [],
    slots: {},
    bargeIns: 0,
    streamEvents: [{ event: 'worker-lost', error: `held by ${call.workerId} on ${call.machine}; its lease ran out before any record was written`.slice(0, 256), at: endedAt }],
    protocolErrors: {},
    fallbacks: [],
    usage: emptyUsage(),
    cost: null,
  };
}
