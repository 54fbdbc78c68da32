/** Picks the state store once at startup: PostgreSQL when DATABASE_URL is set, else embedded. */
import type { Logger } from 'pino';
import { openEmbeddedStore } from './embedded/index.js';
import type { StateStore } from './ports.js';

export interface StateStoreConfig {
  dataDir: string;
  database?:
    | {
        url: string;
        poolMax: number;
        statementTimeoutMs: number;
        connectTimeoutMs: number;
      }
    | undefined;
}

export async function openStateStore(
  config: StateStoreConfig,
  options: { logger: Logger; migrate?: boolean; now?: () => number },
): Promise<StateStore> {
  if (config.database) {
    // Loaded only when used: `npm start` on the embedded store never loads pg or the migrator.
    const { openPostgresStore } = await import('./postgres/index.js');
    return openPostgresStore({
      ...config.database,
      dataDir: config.dataDir,
      logger: options.logger,
      ...(options.migrate !== undefined ? { migrate: options.migrate } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
  }
  return openEmbeddedStore({ dataDir: config.dataDir, ...(options.now ? { now: options.now } : {}) });
}
