/** Small JSON documents that outlive a call, in PostgreSQL. Expired ones read as absent. */
import type { DocumentPort } from '../ports.js';
import { query, type Pool } from './pool.js';

const live = '(expires_at IS NULL OR expires_at > now())';

export class PostgresDocuments implements DocumentPort {
  constructor(private readonly pool: Pool) {}

  async put(kind: string, key: string, value: unknown, expiresAt?: Date): Promise<void> {
    await query(
      this.pool,
      `INSERT INTO documents (kind, key, value, updated_at, expires_at) VALUES ($1, $2, $3, now(), $4)
       ON CONFLICT (kind, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), expires_at = EXCLUDED.expires_at`,
      [kind, key, JSON.stringify(value), expiresAt ?? null],
    );
  }

  async get<T>(kind: string, key: string): Promise<T | undefined> {
    const result = await query<{ value: T }>(this.pool, `SELECT value FROM documents WHERE kind = $1 AND key = $2 AND ${live}`, [kind, key]);
    return result.rows[0]?.value;
  }

  async list<T>(kind: string, limit = 100): Promise<Array<{ key: string; value: T; updatedAt: string }>> {
    const result = await query<{ key: string; value: T; updated_at: Date }>(
      this.pool,
      `SELECT key, value, updated_at FROM documents WHERE kind = $1 AND ${live} ORDER BY updated_at DESC LIMIT $2`,
      [kind, limit],
    );
    return result.rows.map((row) => ({ key: row.key, value: row.value, updatedAt: row.updated_at.toISOString() }));
  }

  async delete(kind: string, key: string): Promise<void> {
    await query(this.pool, 'DELETE FROM documents WHERE kind = $1 AND key = $2', [kind, key]);
  }
}
