/**
 * A fresh PostgreSQL database per test file, on the server at TEST_DATABASE_URL (default: the
 * development/CI server, postgres://postgres@127.0.0.1:5432/postgres). When it is not reachable,
 * tests that need it fail under CI=true and are skipped loudly elsewhere.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Resolved once at import: whether this run has PostgreSQL (throws in CI when it does not). */
export const postgresAvailable: boolean = await (async () => {
  const ok = await reachable();
  if (!ok) {
    const message = `PostgreSQL is not reachable at ${adminUrl.replace(/:[^:@/]*@/, ':***@')}`;
    if (process.env.CI === 'true') throw new Error(`${message}: CI must run the PostgreSQL tests (.ci/run starts it)`);
    console.warn(`\n*** SKIPPING PostgreSQL tests: ${message} ***\n`);
  }
  return ok;
})();

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database with a unique name; `drop()` removes it (terminating leftovers). */
export async function createTestDatabase(prefix = 'voice_test'): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
