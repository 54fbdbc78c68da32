/**
 * The process entry point: read config once, check the machine, build the app, listen, and drain
 * on SIGTERM/SIGINT. The only module that listens or reads process.env.
 */
import { buildApp } from './app.js';
import { loadAgentConfig } from './config/load-agent-config.js';
import { ConfigError, loadServerConfig } from './config/env.js';
import { createEngines } from './engines.js';
import { createLogger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { createRedactor } from './observability/redact.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadServerConfig(process.env);
  } catch (error) {
    console.error(error instanceof ConfigError ? `config error: ${error.message}` : error);
    process.exit(1);
  }
  let agent;
  try {
    agent = loadAgentConfig(config.agentConfigPath);
  } catch (error) {
    console.error(`config error: ${(error as Error).message}`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel, createRedactor(agent.recording.redact));
  if (!config.twilio.authToken) {
    logger.warn('TWILIO_AUTH_TOKEN is not set: webhook and media-stream signatures are NOT checked (development mode)');
  }

  const metrics = new Metrics({ defaultMetrics: true });
  let engines;
  try {
    engines = await createEngines({ config, agent, logger, metrics });
  } catch (error) {
    logger.fatal((error as Error).message);
    process.exit(1);
  }
  const app = await buildApp(config, { agent, engines: engines.forCall, logger, metrics });

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal, drainTimeoutMs: config.drainTimeoutMs }, 'shutting down: no new calls, draining live ones');
    await app.drain();
    await app.fastify.close();
    await engines.close();
    logger.info('bye');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const address = await app.fastify.listen({ host: config.host, port: config.port });
  const shown = address.replace('0.0.0.0', 'localhost');
  logger.info(
    { stt: engines.names.stt, llm: engines.names.llm, tts: engines.names.tts, vad: engines.names.vad },
    `voice agent ready at ${shown} (browser phone: ${shown}/ · Twilio webhook: ${config.publicUrl ?? shown}/voice)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
