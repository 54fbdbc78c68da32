/**
 * agent.db upgrades: a file written by an older build keeps its rows when this build opens it.
 * Migration 3 rebuilds `transfer_attempts` (SQLite cannot alter a CHECK constraint), the riskiest
 * step in the history, so it is checked row by row.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateTo, openDatabase, schemaVersion } from '../../../src/store/database.js';

let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'agent-db-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

function writeVersion2File(): void {
  const db = new BetterSqlite3(join(dataDir, 'agent.db'));
  migrateTo(db, 2);
  expect(db.pragma('user_version', { simple: true })).toBe(2);
  const insert = db.prepare(
    `INSERT INTO transfer_attempts (id, call_sid, from_number, to_number, mode, topic, target_label, target_number,
       status, outcome, person_call_sid, whisper, created_at, hold_started_at, answered_at, ended_at, time_to_human_ms)
     VALUES (?, ?, '+15550100', '+15550199', ?, 'billing', 'Front desk', '+15550123', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  insert.run('t1', 'CA1', 'warm', 'ended', 'caller-hung-up', 'CAp1', 'Caller asks about a bill', '2026-12-01T10:00:00.000Z',
    '2026-12-01T10:00:01.000Z', null, '2026-12-01T10:00:30.000Z', null);
  insert.run('t2', 'CA2', 'cold', 'ringing', null, null, null, '2026-12-01T11:00:00.000Z', null, null, null, null);
  db.prepare(`INSERT INTO callback_requests VALUES ('c1', 'CA1', '+15550100', '2026-12-02', '09:00', 'billing', 'call back', 'open', '2026-12-01T10:01:00.000Z')`).run();
  db.close();
}

describe('agent.db migrations', () => {
  it('upgrades a schema-2 file to the current schema keeping every transfer row and callback', () => {
    writeVersion2File();
    const db = openDatabase({ dataDir });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
      const rows = db.prepare('SELECT * FROM transfer_attempts ORDER BY created_at').all() as Record<string, unknown>[];
      expect(rows.map((row) => [row['id'], row['status'], row['outcome'], row['whisper'], row['deadline_at']])).toEqual([
        ['t1', 'ended', 'caller-hung-up', 'Caller asks about a bill', null],
        ['t2', 'ringing', null, null, null],
      ]);
      expect(rows[0]).toMatchObject({ call_sid: 'CA1', mode: 'warm', person_call_sid: 'CAp1', ended_at: '2026-12-01T10:00:30.000Z' });
      expect(db.prepare('SELECT id, status FROM callback_requests').all()).toEqual([{ id: 'c1', status: 'open' }]);
      // What migration 3 added now works: the 'cancelled' outcome and a stored hold deadline.
      db.prepare(`UPDATE transfer_attempts SET status = 'ended', outcome = 'cancelled', deadline_at = ? WHERE id = 't2'`)
        .run('2026-12-01T11:02:00.000Z');
      const indexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transfer_attempts'`).all() as { name: string }[])
        .map((row) => row.name);
      expect(indexes).toEqual(expect.arrayContaining(['transfer_attempts_by_call', 'transfer_attempts_by_deadline']));
    } finally {
      db.close();
    }
  });

  it('opening the current schema again applies nothing and keeps rows', () => {
    const first = openDatabase({ dataDir });
    first.prepare(`INSERT INTO slots VALUES ('2026-12-02', '09:00')`).run();
    first.close();
    const again = openDatabase({ dataDir });
    try {
      expect(again.pragma('user_version', { simple: true })).toBe(schemaVersion);
      expect(again.prepare('SELECT COUNT(*) AS n FROM slots').get()).toEqual({ n: 1 });
    } finally {
      again.close();
    }
  });

  it('refuses a file from a newer build, naming both versions', () => {
    const db = new BetterSqlite3(join(dataDir, 'agent.db'));
    db.pragma(`user_version = ${schemaVersion + 1}`);
    db.close();
    expect(() => openDatabase({ dataDir })).toThrow(`schema version ${schemaVersion + 1}, newer than this build (${schemaVersion})`);
  });
});
