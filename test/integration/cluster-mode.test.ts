/**
 * `WORKERS=2` as a real process tree (embedded store): the primary forks two workers sharing the
 * port, restarts one that is SIGKILLed, and on SIGTERM has every worker drain its live call
 * before the whole tree exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildDistOnce } from '../../testkit/helpers/build-dist.js';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { childPids, isAlive, until } from '../../testkit/helpers/process.js';

let primary: ChildProcess | undefined;
let dataDir: string;
const lines: string[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  await buildDistOnce(inject('runId'));
  dataDir = mkdtempSync(join(tmpdir(), 'cluster-mode-'));
}, 120_000);

afterAll(() => {
  const pid = primary?.pid;
  if (pid) for (const worker of childPids(undefined, pid)) process.kill(worker, 'SIGKILL');
  if (primary && primary.exitCode === null) primary.kill('SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Waits generously (a loaded machine starts engines slowly); a timeout shows what was printed. */
const untilLogged = (condition: () => boolean, what: string) => until(condition, () => `${what}; output:\n${lines.join('\n')}`, 120_000);
const count = (text: string) => lines.filter((l) => l.includes(text)).length;

describe('cluster mode (WORKERS=2)', () => {
  it('forks two workers, restarts a killed one, and drains all on SIGTERM before exiting 0', async () => {
    const port = await freePort();
    primary = spawn(process.execPath, ['dist/server.js'], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, WORKERS: '2', DRAIN_TIMEOUT_MS: '20000', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    primary.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    primary.stderr!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    const exited = new Promise<number | null>((resolve) => primary!.on('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;

    await untilLogged(() => count('voice agent ready at') >= 2, 'two workers ready');
    const workers = childPids(undefined, primary.pid!);
    expect(workers).toHaveLength(2);

    // A crashed worker is replaced; the other keeps serving meanwhile.
    process.kill(workers[0]!, 'SIGKILL');
    await untilLogged(() => count('worker died; restarting it') === 1, 'restart log');
    expect(isAlive(workers[1]!)).toBe(true);
    await untilLogged(() => count('voice agent ready at') >= 3, 'replacement worker ready');
    const after = childPids(undefined, primary.pid!);
    expect(after).toHaveLength(2);
    expect(after).toContain(workers[1]);
    expect(after).not.toContain(workers[0]);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    // SIGTERM with a live call: both workers drain, the tree waits for the call, then exits 0.
    const caller = new FakeTwilioCaller({ url: `ws://127.0.0.1:${port}/media`, playback: 'instant' });
    await caller.start();
    await caller.waitFor(() => caller.count('media') > 0, 60_000, 'greeting');
    primary.kill('SIGTERM');
    await untilLogged(() => count('shutting down: no new calls') >= 2, 'both workers draining');
    await untilLogged(() => count('"msg":"bye"') >= 1, 'the idle worker done');
    expect(primary.exitCode).toBeNull(); // one worker still serves the live call
    caller.stop();
    caller.close();
    expect(await exited).toBe(0);
    expect(count('all workers drained; bye')).toBe(1);
    expect(after.filter(isAlive)).toEqual([]);
  }, 300_000);
});
