/**
 * The embedded SQLite store: `<dataDir>/agent.db`, opened with better-sqlite3 in WAL mode so
 * readers never block the writer, and with a busy timeout so two processes writing at once wait
 * for each other instead of failing. Schema changes are numbered migrations tracked in
 * `PRAGMA user_version`. Which slots exist is the calendar tools' business (see tools/calendar.ts
 * `seedSchedule`): the store depends on nothing above it.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export type Database = BetterSqlite3.Database;

export interface OpenDatabaseOptions {
  /** Directory holding `agent.db`; created if missing. */
  dataDir: string;
  /**
   * How long a write waits for another connection's write lock, ms. better-sqlite3 waits
   * synchronously, blocking the event loop (and every call's audio), so keep it short: our own
   * transactions hold the lock for well under a millisecond.
   */
  busyTimeoutMs?: number;
}

/**
 * Migrations in order; index + 1 is the `user_version` after applying one. Append only: a
 * database that has run migration N never runs it again.
 */
const migrations: readonly string[] = [
  `
  CREATE TABLE slots (
    date TEXT NOT NULL,
    time TEXT NOT NULL,
    PRIMARY KEY (date, time)
  ) WITHOUT ROWID;

  CREATE TABLE bookings (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    date TEXT NOT NULL,
    time TEXT NOT NULL,
    service TEXT,
    status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    FOREIGN KEY (date, time) REFERENCES slots (date, time)
  );

  -- The double-booking guard: at most one live booking per slot, enforced by SQLite itself, so
  -- two calls racing for a slot (even from different processes) cannot both commit.
  CREATE UNIQUE INDEX bookings_one_live_per_slot ON bookings (date, time) WHERE status = 'booked';

  CREATE INDEX bookings_by_phone ON bookings (phone, status, date, time);
  `,
  // 2: warm transfer (src/store/transfer-store*.ts): attempts, the snapshot a call resumes from,
  // and the callback requests ops work through.
  `
  CREATE TABLE transfer_attempts (
    id TEXT PRIMARY KEY,
    call_sid TEXT NOT NULL,
    from_number TEXT NOT NULL,
    to_number TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('warm', 'cold')),
    topic TEXT NOT NULL,
    target_label TEXT NOT NULL,
    target_number TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'ringing', 'answered', 'returning', 'resumed', 'ended')),
    outcome TEXT CHECK (outcome IN ('answered', 'no-answer', 'busy', 'declined', 'timeout', 'failed', 'caller-hung-up')),
    person_call_sid TEXT,
    whisper TEXT,
    created_at TEXT NOT NULL,
    hold_started_at TEXT,
    answered_at TEXT,
    ended_at TEXT,
    time_to_human_ms INTEGER
  );
  CREATE INDEX transfer_attempts_by_call ON transfer_attempts (call_sid, created_at);

  CREATE TABLE call_snapshots (
    call_sid TEXT PRIMARY KEY,
    snapshot TEXT NOT NULL,
    updated_at TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE callback_requests (
    id TEXT PRIMARY KEY,
    call_sid TEXT NOT NULL,
    phone TEXT NOT NULL,
    date TEXT NOT NULL,
    time TEXT NOT NULL,
    topic TEXT NOT NULL,
    note TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'done')),
    created_at TEXT NOT NULL
  );
  CREATE INDEX callback_requests_by_status ON callback_requests (status, date, time);
  `,
  // 3: the server-side hold timeout (deadline_at) and the 'cancelled' outcome (the caller talked
  // over the hold line). SQLite cannot alter a CHECK constraint: the table is rebuilt.
  `
  CREATE TABLE transfer_attempts_v3 (
    id TEXT PRIMARY KEY,
    call_sid TEXT NOT NULL,
    from_number TEXT NOT NULL,
    to_number TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('warm', 'cold')),
    topic TEXT NOT NULL,
    target_label TEXT NOT NULL,
    target_number TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'ringing', 'answered', 'returning', 'resumed', 'ended')),
    outcome TEXT CHECK (outcome IN ('answered', 'no-answer', 'busy', 'declined', 'timeout', 'failed', 'caller-hung-up', 'cancelled')),
    person_call_sid TEXT,
    whisper TEXT,
    created_at TEXT NOT NULL,
    hold_started_at TEXT,
    answered_at TEXT,
    ended_at TEXT,
    time_to_human_ms INTEGER,
    deadline_at TEXT
  );
  INSERT INTO transfer_attempts_v3
    SELECT id, call_sid, from_number, to_number, mode, topic, target_label, target_number, status, outcome,
           person_call_sid, whisper, created_at, hold_started_at, answered_at, ended_at, time_to_human_ms, NULL
    FROM transfer_attempts ORDER BY rowid;
  DROP TABLE transfer_attempts;
  ALTER TABLE transfer_attempts_v3 RENAME TO transfer_attempts;
  CREATE INDEX transfer_attempts_by_call ON transfer_attempts (call_sid, created_at);
  CREATE INDEX transfer_attempts_by_deadline ON transfer_attempts (status, deadline_at) WHERE deadline_at IS NOT NULL;
  `,
];

export const schemaVersion = migrations.length;

export function openDatabase(options: OpenDatabaseOptions): Database {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const file = join(options.dataDir, 'agent.db');
  const db = new BetterSqlite3(file);
  // Bookings hold names and phone numbers: this user only (SQLite gives -wal/-shm the same mode).
  chmodSync(file, 0o600);
  try {
    // busy_timeout first: switching to WAL itself needs a lock another process may hold.
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 1000))}`);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Database): void {
  migrateTo(db, migrations.length);
}

/**
 * Applies the migrations after the file's `user_version` up to `target` (exported so tests can
 * build an older schema and prove the upgrade keeps its rows).
 */
export function migrateTo(db: Database, target: number): void {
  // IMMEDIATE takes the write lock before reading user_version, so two processes opening a fresh
  // file at once apply each migration exactly once.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > migrations.length) {
      throw new Error(`agent.db has schema version ${current}, newer than this build (${migrations.length})`);
    }
    const upTo = Math.min(target, migrations.length);
    for (let version = current; version < upTo; version++) {
      db.exec(migrations[version] ?? '');
    }
    if (upTo > current) db.pragma(`user_version = ${upTo}`);
  }).immediate();
}
