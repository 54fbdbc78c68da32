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
  // IMMEDIATE takes the write lock before reading user_version, so two processes opening a fresh
  // file at once apply each migration exactly once.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > migrations.length) {
      throw new Error(`agent.db has schema version ${current}, newer than this build (${migrations.length})`);
    }
    for (let version = current; version < migrations.length; version++) {
      db.exec(migrations[version] ?? '');
    }
    db.pragma(`user_version = ${migrations.length}`);
  }).immediate();
}
