/**
 * Time for one call: a monotonic clock for latencies, the wall clock for record timestamps, and
 * one-shot timers. Injected so a session (and everything it owns) can run on a simulated clock in
 * tests, the way the pure turn machine is driven by events.
 */
export interface Timer {
  /** Idempotent. */
  cancel(): void;
}

export interface Scheduler {
  /** Monotonic time, ms (latencies). */
  now(): number;
  /** Wall-clock time, ms since the epoch (timestamps in the call record). */
  wallNow(): number;
  /** Run `fn` once after `ms`. */
  after(ms: number, fn: () => void): Timer;
}

export const realScheduler: Scheduler = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  after(ms, fn) {
    const handle = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  },
};

/** ISO timestamp of the scheduler's wall clock, optionally `agoMs` in the past. */
export function isoAt(scheduler: Scheduler, agoMs = 0): string {
  return new Date(scheduler.wallNow() - agoMs).toISOString();
}

/** Named one-shot timers on a scheduler: arming a name again replaces its timer. */
export class TimerSet<Name extends string> {
  private readonly timers = new Map<Name, Timer>();

  constructor(private readonly scheduler: Scheduler) {}

  arm(name: Name, ms: number, fn: () => void): void {
    this.disarm(name);
    const timer = this.scheduler.after(ms, () => {
      if (this.timers.get(name) === timer) this.timers.delete(name);
      fn();
    });
    this.timers.set(name, timer);
  }

  disarm(name: Name): void {
    this.timers.get(name)?.cancel();
    this.timers.delete(name);
  }

  armed(name: Name): boolean {
    return this.timers.has(name);
  }

  disarmAll(): void {
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }
}
