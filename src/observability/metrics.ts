/**
 * Prometheus metrics. One registry per app instance (tests build many apps). Label values are
 * bounded sets (stage, provider, reason, error code), never a callSid.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS_S = [0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10];

export type LatencyStage = 'endpoint' | 'stt' | 'brain_first_token' | 'tts_first_byte';

export class Metrics {
  readonly registry = new Registry();
  readonly callsActive = new Gauge({ name: 'voice_calls_active', help: 'Calls with a live media stream', registers: [this.registry] });
  readonly callsTotal = new Counter({ name: 'voice_calls_total', help: 'Media streams started', registers: [this.registry] });
  readonly callsRejected = new Counter({
    name: 'voice_calls_rejected_total',
    help: 'Incoming calls refused',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly callsEnded = new Counter({
    name: 'voice_calls_ended_total',
    help: 'Calls ended, by end reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly framesIn = new Counter({ name: 'voice_media_frames_in_total', help: 'Inbound media frames', registers: [this.registry] });
  readonly framesOut = new Counter({ name: 'voice_media_frames_out_total', help: 'Outbound media messages', registers: [this.registry] });
  readonly protocolErrors = new Counter({
    name: 'voice_protocol_errors_total',
    help: 'Malformed or unexpected inbound frames dropped',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly signatureRejections = new Counter({
    name: 'voice_signature_rejections_total',
    help: 'Requests rejected for a bad or missing X-Twilio-Signature',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly stageLatency = new Histogram({
    name: 'voice_stage_latency_seconds',
    help: 'Per-stage latency of a turn',
    labelNames: ['stage', 'provider'] as const,
    buckets: LATENCY_BUCKETS_S,
    registers: [this.registry],
  });
  readonly ttfa = new Histogram({
    name: 'voice_ttfa_seconds',
    help: "Caller's last word to the agent's first audio byte",
    buckets: LATENCY_BUCKETS_S,
    registers: [this.registry],
  });
  readonly bargeIns = new Counter({ name: 'voice_barge_ins_total', help: 'Caller interruptions of agent audio', registers: [this.registry] });
  readonly bargeInLatency = new Histogram({
    name: 'voice_barge_in_latency_seconds',
    help: 'Caller speech onset to clear sent',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1],
    registers: [this.registry],
  });
  readonly stageErrors = new Counter({
    name: 'voice_stage_errors_total',
    help: 'Errors by stage and provider',
    labelNames: ['stage', 'provider'] as const,
    registers: [this.registry],
  });
  readonly fallbacks = new Counter({
    name: 'voice_fallbacks_total',
    help: 'Degraded-path activations by stage',
    labelNames: ['stage', 'from', 'to'] as const,
    registers: [this.registry],
  });
  readonly toolCalls = new Counter({
    name: 'voice_tool_calls_total',
    help: 'Tool calls by tool and outcome',
    labelNames: ['tool', 'ok'] as const,
    registers: [this.registry],
  });

  readonly callCost = new Counter({
    name: 'voice_call_cost_usd_total',
    help: 'Provider cost of finished calls (in the configured currency), by provider',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });
  readonly callMinutes = new Counter({
    name: 'voice_call_minutes_total',
    help: 'Minutes of finished calls',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  observeStage(stage: LatencyStage, provider: string, ms: number | null): void {
    if (ms !== null && Number.isFinite(ms) && ms >= 0) this.stageLatency.observe({ stage, provider }, ms / 1000);
  }
}
