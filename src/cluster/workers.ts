/** Pure helpers for sizing worker processes and what they share on one machine. */
import { availableParallelism } from 'node:os';

/** `WORKERS`: a positive integer, or `auto` (one per core). */
export function resolveWorkerCount(value: string | number | undefined, cores: number = availableParallelism()): number {
  if (value === undefined || value === '') return 1;
  if (value === 'auto') return Math.max(1, cores);
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`WORKERS must be a positive integer or "auto", not ${JSON.stringify(value)}`);
  return n;
}

/**
 * Offline decoders are sized for the machine, then shared out: each worker gets its part of the
 * machine's budget (at least one, since a decoder process cannot serve two workers).
 */
export function decodersPerWorker(machineDecoders: number, workers: number): number {
  return Math.max(1, Math.floor(machineDecoders / Math.max(1, workers)));
}

/** Backoff before restarting a worker that crashed: quick at first, slower if it keeps crashing. */
export function restartDelayMs(recentCrashes: number): number {
  return Math.min(10_000, 100 * 2 ** Math.max(0, recentCrashes - 1));
}
