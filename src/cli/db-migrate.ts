/**
 * `npm run db:migrate`: applies pending PostgreSQL migrations (migrations/*.sql) to DATABASE_URL,
 * for deployments that migrate as a separate step (a Helm hook, a CI job) rather than at startup.
 */
import { pino } from 'pino';
import { migrateUp } from '../store/postgres/migrate.js';

const url = process.env.DATABASE_URL?.trim();
if (!url || !/^postgres(ql)?:\/\//.test(url)) {
  console.error('db:migrate: set DATABASE_URL to a postgres:// URL');
  process.exit(2);
}
const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
try {
  const applied = await migrateUp(url, logger);
  logger.info(applied.length ? { applied } : {}, applied.length ? 'migrations applied' : 'schema is up to date');
} catch (error) {
  logger.fatal({ err: error }, 'migration failed');
  process.exit(1);
}
