/** Builds the app's hand-off pieces: the transfer store (always) and the warm transfer (when it can run). */
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-schema.js';
import type { ServerConfig } from '../config/env.js';
import type { Metrics } from '../observability/metrics.js';
import type { CallRecordStore } from '../store/call-records.js';
import type { TransferStore } from '../store/transfer-store.js';
import { resolveTransferMode } from './mode.js';
import { Summarizer } from './summary.js';
import { transferMetrics } from './transfer-metrics.js';
import { WarmTransfer } from './warm-transfer.js';

export interface TransferContextOptions {
  config: ServerConfig;
  agent: AgentConfig;
  deps: { transferStore?: TransferStore; now?: () => number };
  /** The app's shared store's transfer tables (used unless deps.transferStore overrides them). */
  store: TransferStore;
  records: CallRecordStore;
  metrics: Metrics;
  logger: Logger;
  /** The stream-ticket issuer /voice uses: a resumed stream needs a ticket too. */
  issueTicket: (call: { callSid: string; from: string; to: string }) => string;
}

export async function createTransferContext(options: TransferContextOptions): Promise<{ transferStore: TransferStore; transfer?: WarmTransfer }> {
  const { config, agent } = options;
  const store = options.deps.transferStore ?? options.store;
  const { accountSid, authToken, apiUrl } = config.twilio;
  if (resolveTransferMode(agent, config).mode !== 'warm' || !accountSid || !authToken || !config.publicUrl) return { transferStore: store };
  const transfer = new WarmTransfer({
    store,
    agent,
    twilio: { accountSid, authToken, apiBaseUrl: apiUrl },
    publicUrl: config.publicUrl,
    summarizer: new Summarizer({ config: agent, anthropic: config.anthropic.apiKey ? { apiKey: config.anthropic.apiKey, baseUrl: config.anthropic.baseUrl } : undefined }),
    records: options.records,
    metrics: transferMetrics(options.metrics.registry),
    logger: options.logger,
    issueTicket: options.issueTicket,
    ...(options.deps.now ? { now: options.deps.now } : {}),
  });
  return { transferStore: store, transfer };
}
