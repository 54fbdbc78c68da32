/** Small JSON documents that outlive a call, in runtime.db. Expired ones read as absent. */
import type { DocumentPort } from '../ports.js';
import type { RuntimeDb } from './runtime-db.js';

export class EmbeddedDocuments implements DocumentPort {
  constructor(
    private readonly db: RuntimeDb,
    private readonly now: () => number = Date.now,
  ) {}

  async put(kind: string, key: string, value: unknown, expiresAt?: Date): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO documents (kind, key, value, updated_at, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
      )
      .run(kind, key, JSON.stringify(value), new Date(this.now()).toISOString(), expiresAt?.getTime() ?? null);
  }

  async get<T>(kind: string, key: string): Promise<T | undefined> {
    const row = this.db
      .prepare('SELECT value FROM documents WHERE kind = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)')
      .get(kind, key, this.now()) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async list<T>(kind: string, limit = 100): Promise<Array<{ key: string; value: T; updatedAt: string }>> {
    const rows = this.db
      .prepare(
        'SELECT key, value, updated_at FROM documents WHERE kind = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY updated_at DESC LIMIT ?',
      )
      .all(kind, this.now(), limit) as Array<{ key: string; value: string; updated_at: string }>;
    return rows.map((row) => ({ key: row.key, value: JSON.parse(row.value) as T, updatedAt: row.updated_at }));
  }

  async delete(kind: string, key: string): Promise<void> {
    this.db.prepare('DELETE FROM documents WHERE kind = ? AND key = ?').run(kind, key);
  }
}
