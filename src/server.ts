/**
 * The process entry point: read config once, check the machine, build the app, listen, and drain
 * on SIGTERM/SIGINT. The only module that listens or reads process.env.
 */
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { buildApp } from './app.js';
import { runPrimary } from './cluster/primary.js';
import { resolveWorkerCount } from './cluster/workers.js';
import { openStateStore } from './store/open-state-store.js';
import { loadAgentConfig } from './config/load-agent-config.js';
import { ConfigError, loadServerConfig } from './config/env.js';
import { createEngines } from './engines.js';
import { createLogger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { createRedactor } from './observability/redact.js';

async function main(): Promise<void> {
  const { config, agent } = loadConfigsOrExit();
  const logger = createLogger(config.logLevel, createRedactor(agent.recording.redact));
  if (!config.twilio.authToken) {
    logger.warn('TWILIO_AUTH_TOKEN is not set: webhook and media-stream signatures are NOT checked (development mode)');
  }

  const workers = resolveWorkerCount(config.workers);
  if (workers > 1 && cluster.isPrimary) {
    // The primary migrates the shared schema once, then only supervises: workers hold the calls.
    if (config.database) await (await import('./store/postgres/migrate.js')).migrateUp(config.database.url, logger);
    // Without a configured key each worker would sign stream tickets with its own random key, and a
    // call whose webhook and socket land on different workers would be refused: share one.
    const shared: Record<string, string> = config.streamSecret || config.twilio.authToken ? {} : { STREAM_SECRET: randomBytes(32).toString('hex') };
    runPrimary({ workers, logger, drainTimeoutMs: config.drainTimeoutMs, workerEnv: shared });
    return;
  }

  const metrics = new Metrics({ defaultMetrics: true });
  let store;
  let engines;
  try {
    store = await openStateStore(config, { logger, migrate: cluster.isPrimary });
    engines = await createEngines({ config, agent, logger, metrics, store });
  } catch (error) {
    logger.fatal({ err: error }, (error as Error).message);
    process.exit(1);
  }
  const app = await buildApp(config, { agent, engines: engines.forCall, logger, metrics, store });
  const openStore = store;
  const openEngines = engines;
  onShutdownSignals(logger, config.drainTimeoutMs, async () => {
    await app.drain();
    await app.fastify.close();
    await openEngines.close();
    await openStore.close();
  });

  const address = await app.fastify.listen({ host: config.host, port: config.port });
  const shown = address.replace('0.0.0.0', 'localhost');
  logger.info(
    { stt: engines.names.stt, llm: engines.names.llm, tts: engines.names.tts, vad: engines.names.vad },
    `voice agent ready at ${shown} (browser phone: ${shown}/ · Twilio webhook: ${config.publicUrl ?? shown}/voice)`,
  );
}

/** Both configs, read once; a bad one ends the process naming the field. */
function loadConfigsOrExit() {
  let config;
  try {
    config = loadServerConfig(process.env);
  } catch (error) {
    console.error(error instanceof ConfigError ? `config error: ${error.message}` : error);
    process.exit(1);
  }
  try {
    return { config, agent: loadAgentConfig(config.agentConfigPath) };
  } catch (error) {
    console.error(`config error: ${(error as Error).message}`);
    process.exit(1);
  }
}

/** SIGTERM/SIGINT (and, in a worker, losing the primary) drain once, then exit 0. */
function onShutdownSignals(logger: ReturnType<typeof createLogger>, drainTimeoutMs: number, drainAndClose: () => Promise<void>): void {
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal, drainTimeoutMs }, 'shutting down: no new calls, draining live ones');
    await drainAndClose();
    logger.info('bye');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // A worker whose primary died has nobody to restart or drain it: drain and go.
  if (cluster.isWorker) process.on('disconnect', () => void shutdown('primary-gone'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
