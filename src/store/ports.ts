/**
 * The store ports: everything that outlives one call or must be seen by every worker, behind
 * async interfaces with two adapters, chosen once at startup:
 *   - embedded (default, `npm start`): SQLite `<DATA_DIR>/agent.db` + JSON files under `DATA_DIR`,
 *     shared by the workers of one machine (src/store/embedded/*);
 *   - PostgreSQL (`DATABASE_URL`): one state for any number of workers on any number of machines
 *     (src/store/postgres/*), schema migrated by node-pg-migrate (migrations/).
 *
 * Rules for adapters and for anyone adding a port (transfer state, callback requests, ...):
 *   - every method is async, so the synchronous embedded adapter and the networked one fit;
 *   - expected business outcomes are results (slot taken, not found), and an unreachable
 *     database is a StoreUnavailableError (./store-errors.ts), never a bare driver error, so the
 *     dialog can apologise and offer a person instead of dropping the call;
 *   - a new port gets an interface here, one adapter a file in each of embedded/ and postgres/,
 *     a numbered migration in migrations/ (PostgreSQL) and in embedded/schema.ts (SQLite).
 */
import type { CallRecord } from './call-record.js';
import type { TransferStore } from './transfer-store.js';

/** One booking, as stored. Same shape the calendar tools return. */
export interface StoredBooking {
  bookingId: string;
  name: string;
  phone: string;
  date: string;
  time: string;
  service: string | null;
  status: 'booked' | 'cancelled';
}

export interface NewBooking {
  name: string;
  phone: string;
  /** YYYY-MM-DD in the business's time zone. */
  date: string;
  /** HH:MM (24 h). */
  time: string;
  service?: string | undefined;
}

export type BookingFailureCode = 'no-such-slot' | 'slot-taken' | 'not-found';

/** A write's outcome: the outcomes a caller acts on are results, only faults throw. */
export type BookingChange =
  | { ok: true; booking: StoredBooking }
  | { ok: false; code: BookingFailureCode; message: string };

/**
 * Bookings over seeded slots. Double booking is prevented by the database itself (a unique live
 * booking per slot), so two calls on two machines racing for one slot cannot both commit: the
 * second gets `{ ok: false, code: 'slot-taken' }`.
 */
export interface BookingPort {
  /** Adds slots that are not there yet (idempotent); resolves to how many were added. */
  addSlots(slots: ReadonlyArray<{ date: string; time: string }>): Promise<number>;
  hasSlot(date: string, time: string): Promise<boolean>;
  /** Seeded slots on `date` with no live booking, in time order. */
  freeSlots(date: string): Promise<string[]>;
  get(bookingId: string): Promise<StoredBooking | undefined>;
  /** Live bookings for `phone` at or after `fromDate` `fromTime`, soonest first. */
  upcomingByPhone(phone: string, fromDate: string, fromTime: string): Promise<StoredBooking[]>;
  /** Fails with 'no-such-slot' or 'slot-taken'. */
  book(booking: NewBooking): Promise<BookingChange>;
  /** Fails with 'not-found' unless `bookingId` is a live booking. */
  cancel(bookingId: string): Promise<BookingChange>;
  /** Moves a live booking atomically; on failure ('not-found', 'no-such-slot', 'slot-taken') the old one stands. */
  reschedule(bookingId: string, date: string, time: string): Promise<BookingChange>;
}

/**
 * Call records (see ../../shared/CONTRACT.md). `save` is an upsert: a call's record is written
 * when it starts (so every worker can read it) and again when it ends. Records are redacted
 * before they reach a port. A save that cannot reach the database is spooled to local disk and
 * flushed when the database is back (SpoolingCallRecords): nothing is lost, the call goes on.
 */
export interface CallRecordPort {
  save(record: CallRecord): Promise<void>;
  get(callSid: string): Promise<CallRecord | undefined>;
}

export type LiveCallState = 'starting' | 'live' | 'ending' | 'transferring';

/** One row per live call: who holds it and until when that claim is good. */
export interface LiveCall {
  callSid: string;
  streamSid: string;
  /** `<machine>:<pid>` of the worker holding the call's media socket. */
  workerId: string;
  machine: string;
  startedAt: string;
  state: LiveCallState;
  /** The holder renews this with heartbeats; past it, the call is presumed dead (worker crashed). */
  leaseUntil: string;
}

export type ClaimResult = { claimed: true } | { claimed: false; holder: LiveCall };

export interface LiveCallRegistry {
  /**
   * Claims `callSid` for a worker, or reports who already holds it (a duplicate stream for a call
   * live elsewhere is refused). An expired claim (crashed holder) is taken over.
   */
  claim(call: Omit<LiveCall, 'leaseUntil'>, leaseMs: number): Promise<ClaimResult>;
  setState(callSid: string, workerId: string, state: LiveCallState): Promise<void>;
  /** The call ended on its worker: remove the live row. */
  release(callSid: string, workerId: string): Promise<void>;
  /** Renews the lease of every call `workerId` holds. */
  heartbeat(workerId: string, leaseMs: number): Promise<void>;
  /** Live calls whose lease has not expired, across every worker sharing the store. */
  list(): Promise<LiveCall[]>;
  get(callSid: string): Promise<LiveCall | undefined>;
  /** Removes calls whose lease expired (their worker died); resolves to those calls. */
  reapExpired(): Promise<LiveCall[]>;
}

export type CallCommandKind = 'hangup' | 'transfer';

export interface CallCommand {
  id: string;
  callSid: string;
  /** The worker holding the call when the command was issued. */
  workerId: string;
  kind: CallCommandKind;
  /** Transfer target (E.164 or SIP); absent: the configured number. */
  to?: string | undefined;
  createdAt: string;
}

/**
 * Commands for a call held by another worker. The row is the durable record (who asked what,
 * when, and whether it was done); delivery is a wake-up (PostgreSQL NOTIFY, cluster IPC on the
 * embedded store) to the owning worker, which also picks up anything missed on (re)subscribe.
 */
export interface CallCommandPort {
  issue(command: Omit<CallCommand, 'id' | 'createdAt'>): Promise<CallCommand>;
  /** Commands for `workerId` not yet done, oldest first. */
  pending(workerId: string): Promise<CallCommand[]>;
  complete(id: string, outcome: 'done' | 'not-live' | 'failed'): Promise<void>;
  /**
   * Calls `onCommand` for new commands addressed to `workerId` (and for the pending ones at
   * once). Resolves to an unsubscribe function.
   */
  subscribe(workerId: string, onCommand: (command: CallCommand) => void): Promise<() => Promise<void>>;
}

/**
 * Small JSON documents that outlive a call and that any worker may read: transfer state,
 * callback requests, anything keyed by (kind, key) that needs no query beyond "get" and "list by
 * kind". `expiresAt` lets a document clean itself up.
 */
export interface DocumentPort {
  put(kind: string, key: string, value: unknown, expiresAt?: Date): Promise<void>;
  get<T = unknown>(kind: string, key: string): Promise<T | undefined>;
  list<T = unknown>(kind: string, limit?: number): Promise<Array<{ key: string; value: T; updatedAt: string }>>;
  delete(kind: string, key: string): Promise<void>;
}

/** Everything a server process needs from its state, whichever adapter backs it. */
export interface StateStore {
  readonly kind: 'embedded' | 'postgres';
  readonly bookings: BookingPort;
  readonly callRecords: CallRecordPort;
  readonly liveCalls: LiveCallRegistry;
  readonly commands: CallCommandPort;
  readonly documents: DocumentPort;
  /** Warm-transfer attempts, resume snapshots and callback requests (./transfer-store.ts). */
  readonly transfers: TransferStore;
  /** Health for /readyz and logs: resolves false when the database does not answer. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
