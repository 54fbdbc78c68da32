/**
 * The runtime image's file set, without Docker: the runtime stage's COPY lines are replayed into a
 * temp folder (build-stage artefacts: `dist` compiled here, `node_modules` linked), and the server
 * is started from there with no keys. It must pass its system check (/readyz 200) and answer a
 * call offline. A file the image forgets to copy shows up here, not on a customer's machine.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { until } from '../../testkit/helpers/process.js';

const ROOT = resolve('.');
let image: string;
let child: ChildProcess | undefined;
const lines: string[] = [];

/** COPY lines of the last stage: [from stage or null, sources, destination]. */
export function runtimeCopies(dockerfile: string): Array<{ from: string | null; sources: string[]; dest: string }> {
  const stages = dockerfile.split(/^FROM\s/m);
  const runtime = stages[stages.length - 1] ?? '';
  return runtime
    .split('\n')
    .filter((line) => /^COPY\s/.test(line))
    .map((line) => {
      const words = line.trim().split(/\s+/).slice(1);
      const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : null;
      const dest = words.pop()!;
      return { from, sources: words, dest };
    });
}

function place(from: string | null, source: string, dest: string): void {
  const intoDir = dest === '.' || dest === './' || dest.endsWith('/');
  const target = join(image, intoDir ? join(dest, source.split('/').pop()!) : dest);
  mkdirSync(dirname(target), { recursive: true });
  if (from === null) return cpSync(join(ROOT, source), target, { recursive: true });
  // Build-stage artefacts.
  if (source === '/app/node_modules') return symlinkSync(join(ROOT, 'node_modules'), target, 'dir');
  if (source === '/app/dist') {
    const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', target], { encoding: 'utf8' });
    expect(build.status, build.stdout + build.stderr).toBe(0);
    return;
  }
  throw new Error(`the test does not know how to produce build artefact ${source}`);
}

beforeAll(() => {
  image = mkdtempSync(join(tmpdir(), 'runtime-image-'));
  const copies = runtimeCopies(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  expect(copies.length).toBeGreaterThan(0);
  for (const { from, sources, dest } of copies) for (const source of sources) place(from, source, dest);
}, 180_000);

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(image, { recursive: true, force: true });
});

describe('runtime image file set', () => {
  it('starts with no keys, is ready, and answers a call offline', async () => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: image, PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(image, 'data'), LOG_LEVEL: 'info' };
    child = spawn(process.execPath, ['dist/server.js'], { cwd: image, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    child.stderr!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    await until(() => lines.some((l) => l.includes('voice agent ready at')) || child!.exitCode !== null, 'ready line', 90_000);
    const readyLine = lines.find((l) => l.includes('voice agent ready at'));
    expect(readyLine, lines.join('\n')).toBeDefined();
    const base = /ready at (http:\/\/[^ ]+)/.exec((JSON.parse(readyLine!) as { msg: string }).msg)![1]!;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    const caller = new FakeTwilioCaller({ url: `${base.replace('http', 'ws')}/media`, playback: 'instant' });
    await caller.start();
    await caller.waitFor(() => caller.count('media') > 0 && caller.count('mark') > 0, 30_000, 'greeting');
    const afterGreeting = caller.count('mark');
    // A key press is answered by the flow brain (whatever the step), in the offline voice.
    caller.dtmf('1');
    await caller.silence(2_000, true);
    await caller.waitFor(() => caller.count('mark') > afterGreeting, 30_000, 'a reply');
    caller.stop();
    caller.close();
  }, 150_000);
});
