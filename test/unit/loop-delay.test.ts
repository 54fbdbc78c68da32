import { afterEach, describe, expect, it } from 'vitest';
import { LoopDelayMonitor } from '../../src/observability/loop-delay.js';

describe('LoopDelayMonitor', () => {
  let monitor: LoopDelayMonitor | undefined;
  afterEach(() => monitor?.close());

  it('reports a stalled loop as too slow for one window, then recovers', async () => {
    monitor = new LoopDelayMonitor(50, 60_000);
    await new Promise((r) => setTimeout(r, 50));
    const until = Date.now() + 150;
    while (Date.now() < until); // block the loop
    await new Promise((r) => setTimeout(r, 20));
    monitor.roll();
    expect(monitor.p99Ms).toBeGreaterThan(50);
    expect(monitor.tooSlow).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    monitor.roll();
    expect(monitor.tooSlow).toBe(false);
  });
});
