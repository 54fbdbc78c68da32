/**
 * Two server processes on one PostgreSQL behind a real reverse proxy (haproxy, round robin,
 * health-checked on /readyz), proving the contract's scale-out promises with real parts:
 *   - a call's webhook answered by one instance and its media socket served by the other;
 *   - every call record readable from both;
 *   - a hang-up sent to the instance that does not hold the call;
 *   - SIGTERM on one instance mid-call: its call finishes, new calls go to the other, it exits 0;
 *   - the registry after a worker is killed with SIGKILL (lease expiry ends its call).
 * (Booking races across processes: test/integration/postgres-store.test.ts.)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildDistOnce } from '../../testkit/helpers/build-dist.js';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../../testkit/helpers/postgres.js';
import { until } from '../../testkit/helpers/process.js';

// Runs in every `npm test`: under CI=true a missing haproxy fails the run (.ci/run installs it from
// scripts/test-packages.txt; PostgreSQL's absence fails in testkit/helpers/postgres.ts); elsewhere it skips loudly.
const haproxyPath = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => spawnSync(p, ['-v']).status === 0);
if (!haproxyPath) {
  if (process.env.CI === 'true') throw new Error('haproxy is missing: .ci/run installs it (scripts/test-packages.txt)');
  console.warn('\n*** SKIPPING the multi-instance test: haproxy is not installed (apt-get install haproxy) ***\n');
}

const t0 = Date.now();
/** Progress on stderr, so a hang on a loaded machine says where it stopped. */
const step = (what: string) => console.warn(`[multi-instance +${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}`);

const ADMIN = 'multi-instance-admin-token';
const auth = { authorization: `Bearer ${ADMIN}` };

/** `until` for async conditions (HTTP polls). */
async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Instance {
  name: string;
  port: number;
  base: string;
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

describe.skipIf(!postgresAvailable || !haproxyPath)('two instances on one PostgreSQL behind haproxy', () => {
  let db: TestDatabase;
  const dirs: string[] = [];
  const instances: Instance[] = [];
  let proxy: ChildProcess;
  let proxyBase: string;

  const start = async (name: string): Promise<Instance> => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), `multi-${name}-`));
    dirs.push(dataDir);
    const lines: string[] = [];
    const child = spawn(process.execPath, ['dist/server.js'], {
      env: {
        ...process.env, HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir, DATABASE_URL: db.url, ADMIN_TOKEN: ADMIN,
        DRAIN_TIMEOUT_MS: '20000', LIVE_CALL_LEASE_MS: '2000', LOG_LEVEL: 'info', WORKERS: '1',
        // One ticket key for every instance: /voice on one, /media on the other.
        STREAM_SECRET: 'multi-instance-stream-secret',
        // This test is about placement, not load: a busy CI machine must not flap readiness.
        LOOP_DELAY_MAX_MS: '10000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    child.stderr!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const instance = { name, port, base: `http://127.0.0.1:${port}`, child, lines, exited };
    instances.push(instance);
    return instance;
  };
  const ready = (i: Instance) => until(() => i.lines.some((l) => l.includes('voice agent ready at')), () => `${i.name} ready; output:\n${i.lines.join('\n')}`, 180_000);
  const live = async (via: Instance) => ((await (await fetch(`${via.base}/calls?active=1`, { headers: auth })).json()) as { calls: Array<{ callSid: string; worker: string }> }).calls;
  const holderOf = async (callSid: string, via: Instance) => (await live(via)).find((c) => c.callSid === callSid)?.worker;
  const pidOf = (worker: string | undefined) => Number(worker?.split(':').pop());
  const byPid = (pid: number) => instances.find((i) => i.child.pid === pid)!;
  const call = async (base: string) => {
    const caller = new FakeTwilioCaller({ url: `${base.replace('http', 'ws')}/media`, playback: 'instant' });
    await caller.start();
    await caller.waitFor(() => caller.count('media') > 0, 60_000, 'greeting');
    return caller;
  };

  // Twilio closes the socket itself after `stop`; the server never does on a caller hang-up.
  const hangUp = async (caller: FakeTwilioCaller) => {
    caller.stop();
    caller.close();
    await caller.closed();
  };

  beforeAll(async () => {
    await buildDistOnce(inject('runId'));
    db = await createTestDatabase('voice_multi');
    const a = await start('a');
    await ready(a); // the first migrates; the second finds the schema in place
    const b = await start('b');
    await ready(b);
    step('both instances ready');
    const proxyPort = await freePort();
    const cfgDir = mkdtempSync(join(tmpdir(), 'multi-haproxy-'));
    dirs.push(cfgDir);
    const cfg = join(cfgDir, 'haproxy.cfg');
    writeFileSync(
      cfg,
      [
        'global', '  maxconn 256',
        'defaults', '  mode http', '  timeout connect 2s', '  timeout client 60s', '  timeout server 60s', '  timeout tunnel 1h',
        'frontend voice', `  bind 127.0.0.1:${proxyPort}`, '  default_backend agents',
        // Which instance answered, so the test can tell (haproxy's own server name).
        'backend agents', '  balance roundrobin', '  option httpchk GET /readyz', '  http-response set-header X-Served-By %s',
        `  server a 127.0.0.1:${a.port} check inter 300 fall 1 rise 1`,
        `  server b 127.0.0.1:${b.port} check inter 300 fall 1 rise 1`,
        '',
      ].join('\n'),
    );
    proxy = spawn(haproxyPath!, ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'inherit'] });
    proxyBase = `http://127.0.0.1:${proxyPort}`;
    // Both servers up in haproxy (its first health checks passed): each has answered through it.
    const seen = new Set<string>();
    await eventually(async () => {
      const r = await fetch(`${proxyBase}/healthz`);
      seen.add(r.headers.get('x-served-by') ?? '');
      return seen.has('a') && seen.has('b');
    }, 'haproxy to route to both instances');
  }, 600_000);

  afterAll(async () => {
    proxy?.kill('SIGKILL');
    for (const i of instances) if (i.child.exitCode === null) i.child.kill('SIGKILL');
    await db?.drop().catch(() => undefined);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('serves a webhook on one instance and its media socket on the other; both read every record', async () => {
    // The fake caller announces the call (POST /voice) and then opens the socket, both through the
    // proxy; each instance logs the requests it served, and the registry says who holds the socket.
    const voiceRequests = (i: Instance) => i.lines.filter((l) => l.includes('incoming request') && l.includes('"/voice"')).length;
    for (let attempt = 0; attempt < 4; attempt++) {
      const before = instances.map(voiceRequests);
      const caller = await call(proxyBase);
      const webhookServer = instances.find((i, n) => voiceRequests(i) > before[n]!);
      const holder = byPid(pidOf(await holderOf(caller.callSid, instances[0]!)));
      step(`attempt ${attempt}: webhook on ${webhookServer?.name}, socket on ${holder?.name}`);
      await hangUp(caller);
      expect(webhookServer).toBeDefined();
      if (holder === webhookServer) continue;
      // The record exists from the call's start; the hang-up closes it a moment after the socket does.
      for (const i of instances) {
        await eventually(async () => {
          const r = await fetch(`${i.base}/calls/${caller.callSid}`, { headers: auth });
          return r.status === 200 && ((await r.json()) as { endReason: string | null }).endReason === 'caller-hangup';
        }, `closed record on ${i.name}`);
      }
      return;
    }
    throw new Error('webhook and socket never landed on different instances');
  }, 90_000);

  it('hangs up a call from the instance that does not hold it', async () => {
    const caller = await call(proxyBase);
    const holder = byPid(pidOf(await holderOf(caller.callSid, instances[1]!)));
    const other = instances.find((i) => i !== holder && i.child.exitCode === null)!;
    const response = await fetch(`${other.base}/calls/${caller.callSid}/hangup`, { method: 'POST', headers: auth });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ via: 'store' });
    await caller.closed();
    await eventually(async () => {
      const r = await fetch(`${other.base}/calls/${caller.callSid}`, { headers: auth });
      return r.status === 200 && ((await r.json()) as { endReason: string }).endReason === 'ops-hangup';
    }, 'ops-hangup record');
    expect((await fetch(`${other.base}/calls/CAnotlive/hangup`, { method: 'POST', headers: auth })).status).toBe(404);
  }, 120_000);

  it('drains on SIGTERM: its call finishes, new calls go to the other, it exits 0', async () => {
    const caller = await call(proxyBase);
    const holder = byPid(pidOf(await holderOf(caller.callSid, instances[0]!)));
    const other = instances.find((i) => i !== holder)!;
    step('SIGTERM to the holder');
    holder.child.kill('SIGTERM');
    await eventually(async () => (await fetch(`${holder.base}/readyz`)).status === 503, 'draining instance unready');
    // haproxy's health check has seen it: several requests in a row all go to the other.
    let streak = 0;
    await eventually(async () => {
      const r = await fetch(`${proxyBase}/healthz`);
      streak = r.headers.get('x-served-by') === other.name ? streak + 1 : 0;
      return streak >= 4;
    }, 'haproxy to stop routing to the draining instance');
    step('holder unready');
    const next = await call(proxyBase);
    step('next call placed');
    expect(pidOf(await holderOf(next.callSid, other))).toBe(other.child.pid);
    expect(holder.child.exitCode).toBeNull(); // still serving its live call
    expect(await holderOf(caller.callSid, other)).toBeDefined();
    await hangUp(caller);
    step('first call hung up; waiting for the holder to exit');
    expect(await holder.exited).toBe(0);
    await hangUp(next);
  }, 90_000);

  it('ends the calls of a SIGKILLed worker in the registry once its lease expires', async () => {
    const survivor = instances.find((i) => i.child.exitCode === null)!;
    const victim = await start('c');
    await ready(victim);
    const caller = await call(victim.base);
    expect(pidOf(await holderOf(caller.callSid, survivor))).toBe(victim.child.pid);
    // The record's start snapshot is written asynchronously; this test closes a record that exists
    // (a call killed before its snapshot lands gets one from its registry row: test/unit/cluster/worker-calls.test.ts).
    await eventually(async () => (await fetch(`${survivor.base}/calls/${caller.callSid}`, { headers: auth })).status === 200, 'the start snapshot in the store');
    victim.child.kill('SIGKILL');
    await victim.exited;
    await eventually(async () => (await holderOf(caller.callSid, survivor)) === undefined, 'the lost call to leave the registry', 30_000);
    await eventually(async () => {
      const r = await fetch(`${survivor.base}/calls/${caller.callSid}`, { headers: auth });
      return r.status === 200 && ((await r.json()) as { endReason: string | null }).endReason === 'worker-lost';
    }, 'the lost call record closed as worker-lost', 30_000);
    caller.close();
  }, 300_000);
});
