/**
 * The embedded store's runtime tables (live calls, call commands, documents) in their own SQLite
 * file, `<dataDir>/runtime.db`, shared by the workers of one machine. Kept apart from agent.db
 * (bookings) so the two schemas migrate independently and runtime churn (heartbeats) never
 * contends with a booking's write lock. Numbered migrations tracked in `PRAGMA user_version`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export type RuntimeDb = BetterSqlite3.Database;

const migrations: readonly string[] = [
  `
  CREATE TABLE live_calls (
    call_sid TEXT PRIMARY KEY,
    stream_sid TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    machine TEXT NOT NULL,
    started_at TEXT NOT NULL,
    state TEXT NOT NULL,
    lease_until INTEGER NOT NULL
  );
  CREATE INDEX live_calls_by_worker ON live_calls (worker_id);

  CREATE TABLE call_commands (
    id TEXT PRIMARY KEY,
    call_sid TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('hangup', 'transfer')),
    target TEXT,
    created_at TEXT NOT NULL,
    completed_at TEXT,
    outcome TEXT
  );
  CREATE INDEX call_commands_pending ON call_commands (worker_id, created_at) WHERE completed_at IS NULL;

  CREATE TABLE documents (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (kind, key)
  );
  `,
];

export function openRuntimeDb(dataDir: string): RuntimeDb {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new BetterSqlite3(join(dataDir, 'runtime.db'));
  try {
    // Short: a synchronous wait blocks this worker's event loop (and its calls' audio).
    db.pragma('busy_timeout = 1000');
    db.pragma('journal_mode = WAL');
    db.transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current > migrations.length) throw new Error(`runtime.db has schema version ${current}, newer than this build (${migrations.length})`);
      for (let version = current; version < migrations.length; version++) db.exec(migrations[version] ?? '');
      db.pragma(`user_version = ${migrations.length}`);
    }).immediate();
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
