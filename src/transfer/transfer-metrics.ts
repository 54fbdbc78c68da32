/** Prometheus series for hand-offs, registered once per registry (engines and routes share them). */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface TransferMetrics {
  attempts: Counter<'mode'>;
  /** answered, no-answer, busy, declined, timeout, failed, caller-hung-up, callback-taken. */
  outcomes: Counter<'outcome'>;
  timeToHuman: Histogram<string>;
  whispers: Counter<'source'>;
}

const byRegistry = new WeakMap<Registry, TransferMetrics>();

export function transferMetrics(registry: Registry): TransferMetrics {
  let metrics = byRegistry.get(registry);
  if (!metrics) {
    metrics = {
      attempts: new Counter({ name: 'voice_transfer_attempts_total', help: 'Transfers to a person started', labelNames: ['mode'] as const, registers: [registry] }),
      outcomes: new Counter({ name: 'voice_transfer_outcomes_total', help: 'How transfers (and the callback offers after them) ended', labelNames: ['outcome'] as const, registers: [registry] }),
      timeToHuman: new Histogram({
        name: 'voice_transfer_time_to_human_seconds',
        help: 'Caller on hold → the person pressed 1',
        buckets: [2, 5, 10, 15, 20, 30, 45, 60, 90],
        registers: [registry],
      }),
      whispers: new Counter({ name: 'voice_transfer_whispers_total', help: 'Whisper summaries, by who wrote them', labelNames: ['source'] as const, registers: [registry] }),
    };
    byRegistry.set(registry, metrics);
  }
  return metrics;
}
