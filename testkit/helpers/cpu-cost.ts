/**
 * Cost measurements that a loaded machine cannot fake: CPU time of this process instead of wall
 * time (a process waiting for one of two busy cores accrues none), the least of several runs (a
 * GC pause or a cache-cold first run lands on one of them), and measurements that are compared
 * with each other taken interleaved, so both sides see the same machine.
 */

/** CPU time this process has used, ms (user + system, all threads). */
export function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** The least CPU time of `runs` runs of `work`, ms. */
export function bestCpuMs(work: () => void, runs = 5): number {
  return bestCpuMsEach([work], runs)[0]!;
}

/** The least CPU time of each of `works`, ms, run in turn `runs` times (interleaved, so a ratio between them is fair). */
export function bestCpuMsEach(works: ReadonlyArray<() => void>, runs = 5): number[] {
  const best = works.map(() => Infinity);
  for (let run = 0; run < runs; run++) {
    works.forEach((work, i) => {
      const before = cpuMs();
      work();
      best[i] = Math.min(best[i]!, cpuMs() - before);
    });
  }
  return best;
}

/** The async form of `bestCpuMsEach` (work that waits for a server, a socket). */
export async function bestCpuMsEachAsync(works: ReadonlyArray<() => Promise<unknown>>, runs = 3): Promise<number[]> {
  const best = works.map(() => Infinity);
  for (let run = 0; run < runs; run++) {
    for (const [i, work] of works.entries()) {
      const before = cpuMs();
      await work();
      best[i] = Math.min(best[i]!, cpuMs() - before);
    }
  }
  return best;
}
