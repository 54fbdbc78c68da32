/**
 * The real entry point as a process: `node dist/server.js` starts with one clear log line, and on
 * SIGTERM stops taking calls (/readyz 503), lets the live call finish, then exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildDistOnce } from '../../testkit/helpers/build-dist.js';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { until } from '../../testkit/helpers/process.js';

let child: ChildProcess | undefined;
let dataDir: string;
const lines: string[] = [];

beforeAll(async () => {
  await buildDistOnce(inject('runId'));
  dataDir = mkdtempSync(join(tmpdir(), 'server-process-'));
}, 120_000);

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** Waits, and on a timeout shows what the server printed. */
const untilLogged = (condition: () => boolean, what: string) => until(condition, () => `${what}; output:\n${lines.join('\n')}`, 30_000);

describe('server process', () => {
  it('logs a ready line, and drains on SIGTERM before exiting 0', async () => {
    child = spawn(process.execPath, ['dist/server.js'], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, DRAIN_TIMEOUT_MS: '20000', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    child.stderr!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));

    await untilLogged(() => lines.some((l) => l.includes('voice agent ready at')), 'ready line');
    const ready = JSON.parse(lines.find((l) => l.includes('voice agent ready at'))!) as { msg: string; stt: string; tts: string };
    expect(ready).toMatchObject({ stt: 'pocketsphinx', tts: 'flite:kal' });
    const base = /ready at (http:\/\/[^ ]+)/.exec(ready.msg)![1]!;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    const caller = new FakeTwilioCaller({ url: `${base.replace('http', 'ws')}/media`, playback: 'instant' });
    await caller.start();
    await caller.waitFor(() => caller.count('media') > 0, 20_000, 'greeting');

    child.kill('SIGTERM');
    await untilLogged(() => lines.some((l) => l.includes('draining')), 'drain log');
    const readyz = await fetch(`${base}/readyz`);
    expect(readyz.status).toBe(503);
    const refused = await fetch(`${base}/voice`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'CallSid=CA2&From=%2B15550001111&To=%2B15550002222',
    });
    expect(await refused.text()).toContain('<Say>');
    expect(child.exitCode).toBeNull(); // still serving the live call

    caller.stop();
    caller.close();
    expect(await exited).toBe(0);
  }, 90_000);
});
