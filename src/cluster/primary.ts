/**
 * WORKERS > 1: this process becomes the primary. It forks the workers (node:cluster; they share
 * the listening port, the primary accepts and hands connections out round-robin), restarts one
 * that crashes, relays call-command wake-ups between them, and on SIGTERM/SIGINT asks every worker
 * to drain (each stops taking calls, lets its live calls finish up to the drain timeout) and exits
 * 0 once all have exited. The primary itself holds no calls and no engines.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { isCallCommandMessage } from '../store/embedded/commands.js';
import { restartDelayMs } from './workers.js';

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
  /** Each worker's drain timeout; the primary waits this long plus a margin before SIGKILL. */
  drainTimeoutMs: number;
  /** Extra environment for the workers (e.g. the decoder share). */
  workerEnv?: Record<string, string>;
  /** Where the primary's exit goes (tests replace it). */
  exit?: (code: number) => void;
}

const CRASH_WINDOW_MS = 60_000;
const KILL_MARGIN_MS = 10_000;

export function runPrimary(options: PrimaryOptions): { shutdown(signal: string): Promise<void> } {
  const { logger } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let shuttingDown = false;
  const crashes: number[] = [];
  const live = new Set<Worker>();

  const fork = (index: number) => {
    const worker = cluster.fork({ ...options.workerEnv, WORKER_INDEX: String(index) });
    live.add(worker);
    worker.on('message', (message: unknown) => {
      // A command issued on one worker may be for a call held by any other: wake them all.
      if (isCallCommandMessage(message)) for (const other of live) if (other.isConnected()) other.send(message);
    });
    worker.on('exit', (code, signal) => {
      live.delete(worker);
      if (shuttingDown) {
        logger.info({ worker: worker.process.pid, code, signal }, 'worker exited');
        if (live.size === 0) {
          logger.info('all workers drained; bye');
          exit(0);
        }
        return;
      }
      const now = Date.now();
      crashes.push(now);
      while (crashes.length && crashes[0]! < now - CRASH_WINDOW_MS) crashes.shift();
      const delay = restartDelayMs(crashes.length);
      logger.error({ worker: worker.process.pid, code, signal, restartInMs: delay }, 'worker died; restarting it');
      setTimeout(() => !shuttingDown && fork(index), delay);
    });
  };

  for (let index = 0; index < options.workers; index++) fork(index);
  logger.info({ workers: options.workers, pid: process.pid }, 'primary started; forking workers');

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal, workers: live.size }, 'shutting down: every worker drains its live calls');
    if (live.size === 0) return exit(0);
    for (const worker of live) worker.process.kill('SIGTERM');
    const killer = setTimeout(() => {
      for (const worker of live) {
        logger.error({ worker: worker.process.pid }, 'worker did not drain in time; killing it');
        worker.process.kill('SIGKILL');
      }
    }, options.drainTimeoutMs + KILL_MARGIN_MS);
    killer.unref();
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  return { shutdown };
}
