/**
 * Event-loop delay over a rolling window, for /readyz: a worker whose loop stalls cannot keep
 * 20 ms media frames on time, so it should take no new calls until it recovers. Uses
 * perf_hooks.monitorEventLoopDelay (sampled in C++, negligible cost); the histogram is reset every
 * window so a past spike does not keep the worker out forever.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export class LoopDelayMonitor {
  private readonly histogram: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private lastP99Ms = 0;

  constructor(
    /** p99 above this (ms) over the last window means "too slow". */
    private readonly maxP99Ms: number,
    windowMs = 5000,
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
    this.timer = setInterval(() => this.roll(), windowMs);
    this.timer.unref();
  }

  /** p99 of the last complete window, ms. */
  get p99Ms(): number {
    return this.lastP99Ms;
  }

  get tooSlow(): boolean {
    return this.lastP99Ms > this.maxP99Ms;
  }

  /** Closes the current window now (tests, and the roll timer). */
  roll(): void {
    this.lastP99Ms = this.histogram.count > 0 ? this.histogram.percentile(99) / 1e6 : 0;
    this.histogram.reset();
  }

  close(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}
