/**
 * Schema migrations for the PostgreSQL store, run by node-pg-migrate from the SQL files in
 * `migrations/` (at startup, and by `npm run db:migrate`). node-pg-migrate takes an advisory lock,
 * so workers and machines starting together apply each migration exactly once.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from 'pino';

export const MIGRATIONS_TABLE = 'pgmigrations';

/** The repository's `migrations/` folder, found from this module (src/, dist/ or a bench build). */
export function migrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'migrations')) && existsSync(join(dir, 'package.json'))) return join(dir, 'migrations');
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the migrations/ folder next to package.json');
    dir = parent;
  }
}

/** Applies every pending migration; resolves to the names applied (empty when up to date). */
export async function migrateUp(databaseUrl: string, logger: Logger): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: migrationsDir(),
    direction: 'up',
    migrationsTable: MIGRATIONS_TABLE,
    checkOrder: true,
    singleTransaction: true,
    logger: {
      debug: (msg: string) => logger.debug(msg),
      info: (msg: string) => logger.debug(msg),
      warn: (msg: string) => logger.warn(msg),
      error: (msg: string) => logger.error(msg),
    },
  });
  const names = applied.map((migration) => migration.name);
  if (names.length > 0) logger.info({ migrations: names }, 'database schema migrated');
  return names;
}
