/**
 * A simulated clock for code that takes a `Scheduler`: time moves only when the test calls
 * `advance`, and timers fire in due order as it passes them.
 */
import type { Scheduler, Timer } from '../../src/util/scheduler.js';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class ManualScheduler implements Scheduler {
  private clock = 0;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(private readonly wallStartMs = Date.UTC(2026, 0, 5, 9, 0, 0)) {}

  now(): number {
    return this.clock;
  }

  wallNow(): number {
    return this.wallStartMs + this.clock;
  }

  after(ms: number, fn: () => void): Timer {
    const entry: Pending = { at: this.clock + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.pending.push(entry);
    return { cancel: () => (entry.cancelled = true) };
  }

  /** Timers still waiting. */
  get timers(): number {
    return this.pending.filter((p) => !p.cancelled).length;
  }

  /** Move time on by `ms`, firing every timer due on the way (and timers those arm, if due). */
  advance(ms: number): void {
    const target = this.clock + ms;
    for (;;) {
      const due = this.pending.filter((p) => !p.cancelled && p.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.clock = Math.max(this.clock, due.at);
      due.fn();
    }
    this.clock = target;
    this.pending = this.pending.filter((p) => !p.cancelled);
  }
}
