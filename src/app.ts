/**
 * buildApp(config, deps): the whole server as a Fastify instance, without listening.
 * Only src/server.ts listens; tests drive this with inject()/injectWS().
 */
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createLogger } from './observability/logger.js';
import { createRedactor } from './observability/redact.js';
import type { CallContext } from './dialog/brain.js';
import type { AppContext } from './app-context.js';
import { CallManager } from './call-manager.js';
import type { AgentConfig } from './config/agent-schema.js';
import type { ServerConfig } from './config/env.js';
import type { CallEngines } from './dialog/call-engines.js';
import { Metrics } from './observability/metrics.js';
import { mediaRoutes, MEDIA_WS_MAX_PAYLOAD } from './routes/media.js';
import { opsRoutes } from './routes/ops.js';
import { BrowserPhone, phoneRoutes, selectSubprotocol } from './routes/phone.js';
import { streamTicketKey, StreamTickets } from './routes/stream-ticket.js';
import { voiceRoutes } from './routes/voice.js';
import type { MessageRateLimit } from './routes/media-guard.js';
import { CallRecordStore } from './store/call-records.js';
import { FixtureRecorder } from './recording/fixture-recorder.js';
import { transferRoutes } from './routes/transfer.js';
import { createTransferContext } from './transfer/transfer-context.js';
import type { TransferStore } from './store/transfer-store.js';
import { CallControl } from './cluster/call-control.js';
import { WorkerCalls } from './cluster/worker-calls.js';
import { LoopDelayMonitor } from './observability/loop-delay.js';
import { openEmbeddedStore } from './store/embedded/index.js';
import type { StateStore } from './store/ports.js';

export interface AppDeps {
  agent: AgentConfig;
  /** Creates the per-call engines (offline or cloud, decided at startup). */
  engines: (call: CallContext) => CallEngines;
  logger?: Logger;
  metrics?: Metrics;
  /** Wall clock, epoch ms, for recordings (the engines' clock; pinned in replays). */
  now?: () => number;
  /** The shared state; unset: the embedded store under DATA_DIR, opened (and closed) here. */
  store?: StateStore;
  /** How long a media socket may stay open without `start` (default 5 s). */
  mediaStartTimeoutMs?: number;
  /** Media socket pace limit (default: Twilio's pace with wide room); null only for the in-process replay tool. */
  mediaMessageRate?: MessageRateLimit | null;
  /** Transfer attempts, resume snapshots, callback requests; default: the shared store's (`store.transfers`). */
  transferStore?: TransferStore;
}

export interface App {
  fastify: FastifyInstance;
  context: AppContext;
  /** SIGTERM: refuse new calls, let live ones finish up to the drain timeout, then close. */
  drain(timeoutMs?: number): Promise<void>;
}

export async function buildApp(config: ServerConfig, deps: AppDeps): Promise<App> {
  const redact = createRedactor(deps.agent.recording.redact);
  const log = deps.logger ?? createLogger(config.logLevel, redact);
  const fastify = createFastify(config, log);
  const metrics = deps.metrics ?? new Metrics({ defaultMetrics: true });
  const store = deps.store ?? openEmbeddedStore({ dataDir: config.dataDir, ...(deps.now ? { now: deps.now } : {}) });
  const records = new CallRecordStore(config.dataDir, redact, store.callRecords, (error) => log.warn({ err: error }, 'could not write a call record snapshot'));
  const calls = new CallManager(config.maxConcurrentCalls, records, log, config.maxSocketsPerAddress);
  const ticketKey = streamTicketKey(config);
  const tickets = new StreamTickets(ticketKey.key);
  if (ticketKey.source === 'per-process-random') {
    log.warn('neither TWILIO_AUTH_TOKEN nor STREAM_SECRET is set: stream tickets use a per-process key, so /voice and /media of one call must reach this same process');
  }
  const liveCalls = new WorkerCalls({ store, logger: log, local: calls, leaseMs: config.liveCallLeaseMs });
  await liveCalls.start();
  const { accountSid, authToken, apiUrl, transferNumber } = config.twilio;
  const control = new CallControl({
    workerCalls: liveCalls,
    local: calls,
    logger: log,
    twilio: accountSid && authToken ? { accountSid, authToken, apiBaseUrl: apiUrl, transferNumber } : undefined,
  });
  const loopDelay = new LoopDelayMonitor(config.loopDelayMaxMs);
  const context: AppContext = { config, agent: deps.agent, metrics, calls, records, tickets, store, liveCalls, control, loopDelay };
  fastify.addHook('onClose', async () => {
    loopDelay.close();
    await liveCalls.stop();
    if (!deps.store) await store.close();
  });
  if (deps.agent.recording.enabled) {
    context.recordings = new FixtureRecorder({ dataDir: config.dataDir, agent: deps.agent, redact, logger: log, ...(deps.now ? { now: deps.now } : {}) });
  }

  // The browser phone: its token admits a /media upgrade (instead of a Twilio signature) and its
  // event socket observes that call's session.
  const phone = new BrowserPhone();
  Object.assign(context, await createTransferContext({ config, agent: deps.agent, deps, store: store.transfers, records, metrics, logger: log, issueTicket: (call) => tickets.issue(call) }));
  // Callers on hold whose Twilio callbacks never come (this worker's, or a lost worker's) come back.
  context.transfer?.start();
  fastify.addHook('onClose', async () => context.transfer?.stop());

  await registerRoutes(fastify, context, deps, phone);

  return {
    fastify,
    context,
    async drain(timeoutMs = config.drainTimeoutMs) {
      await calls.drain(timeoutMs);
      await records.flush();
      await context.recordings?.flush();
    },
  };
}

function createFastify(config: ServerConfig, log: NonNullable<AppDeps['logger']>): FastifyInstance {
  return Fastify({
    loggerInstance: log,
    // Only the configured proxies' X-Forwarded-* are believed (request.ip/host/protocol).
    ...(config.trustProxy ? { trustProxy: config.trustProxy } : {}),
    // Twilio webhooks are small; anything large is not Twilio.
    bodyLimit: 256 * 1024,
  }) as unknown as FastifyInstance;
}

async function registerRoutes(fastify: FastifyInstance, context: AppContext, deps: AppDeps, phone: BrowserPhone): Promise<void> {
  await fastify.register(websocket, { options: { maxPayload: MEDIA_WS_MAX_PAYLOAD, handleProtocols: selectSubprotocol } });
  await fastify.register(async (scope) => voiceRoutes(scope, context));
  await fastify.register(async (scope) =>
    mediaRoutes(scope, context, {
      engines: deps.engines,
      acceptUpgradeToken: phone.acceptMediaUpgrade,
      observeCall: phone.observeCall,
      tickets: context.tickets,
      ...(deps.mediaStartTimeoutMs !== undefined ? { startTimeoutMs: deps.mediaStartTimeoutMs } : {}),
      ...(deps.mediaMessageRate !== undefined ? { messageRate: deps.mediaMessageRate } : {}),
    }),
  );
  await fastify.register(async (scope) => opsRoutes(scope, context));
  await fastify.register(async (scope) => phoneRoutes(scope, context, phone));
  await fastify.register(async (scope) => transferRoutes(scope, context));
}
