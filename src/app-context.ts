/** What the route plugins share: configuration, metrics, the live calls and their records. */
import type { AgentConfig } from './config/agent-schema.js';
import type { ServerConfig } from './config/env.js';
import type { CallManager } from './call-manager.js';
import type { Metrics } from './observability/metrics.js';
import type { FixtureRecorder } from './recording/fixture-recorder.js';
import type { StreamTickets } from './routes/stream-ticket.js';
import type { CallRecordStore } from './store/call-records.js';
import type { TransferStore } from './store/transfer-store.js';
import type { WarmTransfer } from './transfer/warm-transfer.js';
import type { CallControl } from './cluster/call-control.js';
import type { WorkerCalls } from './cluster/worker-calls.js';
import type { LoopDelayMonitor } from './observability/loop-delay.js';
import type { StateStore } from './store/ports.js';

export interface AppContext {
  config: ServerConfig;
  agent: AgentConfig;
  metrics: Metrics;
  calls: CallManager;
  records: CallRecordStore;
  /** The shared state (PostgreSQL or embedded). */
  store: StateStore;
  /** This worker's rows in the live-call registry, and commands addressed to its calls. */
  liveCalls: WorkerCalls;
  /** Hang-up / transfer of a call wherever it runs. */
  control: CallControl;
  /** Event-loop delay, for /readyz. */
  loopDelay: LoopDelayMonitor;
  /** Signs the per-call `<Parameter>` that admits a media stream announced by `/voice`. */
  tickets: StreamTickets;
  /** Set when the agent has `recording.enabled`: every call is also written as a replayable fixture. */
  recordings?: FixtureRecorder;
  /** Hand-offs: callback requests (always) and the warm transfer (Twilio credentials + PUBLIC_URL). */
  transferStore?: TransferStore;
  transfer?: WarmTransfer;
}
