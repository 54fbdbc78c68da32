import { describe, expect, it } from 'vitest';
import { decodersPerWorker, resolveWorkerCount, restartDelayMs } from '../../../src/cluster/workers.js';

describe('worker sizing', () => {
  it.each([
    [undefined, 8, 1],
    ['', 8, 1],
    ['auto', 8, 8],
    ['auto', 0, 1],
    ['3', 8, 3],
    [2, 8, 2],
  ] as const)('WORKERS=%s on %i cores → %i', (value, cores, expected) => {
    expect(resolveWorkerCount(value, cores)).toBe(expected);
  });

  it.each(['0', '-1', '1.5', 'many'])('rejects WORKERS=%s', (value) => {
    expect(() => resolveWorkerCount(value, 4)).toThrow(/WORKERS/);
  });

  it.each([
    [2, 1, 2],
    [2, 2, 1],
    [2, 4, 1],
    [8, 3, 2],
  ])('%i machine decoders over %i workers → %i each', (machine, workers, expected) => {
    expect(decodersPerWorker(machine, workers)).toBe(expected);
  });

  it('backs off restarts of a crashing worker up to 10 s', () => {
    expect([1, 2, 3, 4, 20].map(restartDelayMs)).toEqual([100, 200, 400, 800, 10_000]);
  });
});
