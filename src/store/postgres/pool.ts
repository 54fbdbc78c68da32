/**
 * The PostgreSQL connection pool and the one place driver errors are sorted: a fault of the
 * database's availability (refused, reset, timed out, shutting down, out of connections) becomes
 * StoreUnavailableError so the call goes on degraded; anything else (a bug, a constraint) is
 * rethrown as is for the adapter to interpret.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../store-errors.js';

export interface PostgresOptions {
  /** postgres://user:pass@host:port/db */
  url: string;
  /** Connections per process (each worker has its own pool). */
  poolMax: number;
  /** Server-side statement_timeout, ms: a stuck query must not hold a caller on silence. */
  statementTimeoutMs: number;
  /** How long to wait for a connection (new or from the pool), ms. */
  connectTimeoutMs: number;
  applicationName?: string;
}

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type QueryValues = unknown[];

export function createPool(options: PostgresOptions, logger: Logger): Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    statement_timeout: options.statementTimeoutMs,
    // Client-side guard too: a dead TCP peer never answers, so statement_timeout never fires.
    query_timeout: options.statementTimeoutMs + 2000,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName ?? 'voice-agent',
  });
  // An idle client losing its connection (database restart) emits here; unhandled, it would
  // crash the process and every call on it.
  pool.on('error', (error) => logger.warn({ err: error }, 'PostgreSQL idle connection lost'));
  return pool;
}

/** SQLSTATE classes that mean "the database is not available right now". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57|58)/;

export function isUnavailable(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_SQLSTATE.test(code);
  // No SQLSTATE: a network-level error (ECONNREFUSED, ECONNRESET, ETIMEDOUT), a connection
  // timeout, a query timeout or a terminated connection.
  return error instanceof Error;
}

export function unavailable(error: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`database unavailable: ${(error as Error).message}`, { cause: error });
}

/** One query; an availability fault becomes StoreUnavailableError. */
export async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(
  db: Pool | PoolClient,
  text: string,
  values: QueryValues = [],
): Promise<pg.QueryResult<R>> {
  try {
    return await db.query<R>(text, values);
  } catch (error) {
    throw isUnavailable(error) ? unavailable(error) : error;
  }
}

/** Runs `work` in one transaction on one connection; rolls back on any error. */
export async function transaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw unavailable(error);
  }
  let failed = false;
  try {
    await query(client, 'BEGIN');
    const result = await work(client);
    await query(client, 'COMMIT');
    return result;
  } catch (error) {
    failed = true;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    // A connection that failed mid-transaction may be broken: do not hand it to the next caller.
    client.release(failed ? true : undefined);
  }
}

/** The SQLSTATE and constraint of a driver error, for adapters that act on constraint names. */
export function constraintOf(error: unknown): { code?: string; constraint?: string } {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return {
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.constraint === 'string' ? { constraint: e.constraint } : {}),
  };
}
