/** The PostgreSQL state store: one pool per process, schema migrated before first use. */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { StateStore } from '../ports.js';
import { SpoolingCallRecords } from '../spooling-call-records.js';
import { PostgresBookings } from './bookings.js';
import { PostgresCallRecords } from './call-records.js';
import { PostgresCommands } from './commands.js';
import { PostgresDocuments } from './documents.js';
import { PostgresLiveCalls } from './live-calls.js';
import { migrateUp } from './migrate.js';
import { createPool, type PostgresOptions } from './pool.js';
import { PostgresTransferStore } from './transfers.js';

export interface OpenPostgresOptions extends PostgresOptions {
  /** Where call records wait while the database is down. */
  dataDir: string;
  logger: Logger;
  /** Apply pending migrations first (startup); false when the primary already did. */
  migrate?: boolean;
  now?: () => number;
}

export async function openPostgresStore(options: OpenPostgresOptions): Promise<StateStore> {
  if (options.migrate !== false) await migrateUp(options.url, options.logger);
  const pool = createPool({ ...options, applicationName: options.applicationName ?? `voice-agent@${hostname()}` }, options.logger);
  const callRecords = new SpoolingCallRecords(new PostgresCallRecords(pool), options.dataDir, options.logger);
  callRecords.start();
  return {
    kind: 'postgres',
    bookings: new PostgresBookings(pool, options.now),
    callRecords,
    liveCalls: new PostgresLiveCalls(pool),
    commands: new PostgresCommands(pool, options.url, options.logger),
    documents: new PostgresDocuments(pool),
    transfers: new PostgresTransferStore(pool, options.now),
    async ping() {
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      callRecords.stop();
      await callRecords.flush().catch(() => undefined);
      await pool.end();
    },
  };
}
