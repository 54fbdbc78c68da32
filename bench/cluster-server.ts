/**
 * The product as ops run it: the real entry point (`src/server.ts`, built next to the bench) in its
 * own process with `WORKERS=N` (N > 1: a cluster primary forking N workers that share the port;
 * 1: one process), the agent config with the bench's overrides in a temp file, a fresh DATA_DIR.
 * Ready when every worker has logged its "voice agent ready" line. CPU and RSS are read from /proc
 * over the whole process tree (primary, workers, offline decoders), see process-tree.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
/** The tools build puts bench/ and src/ side by side. */
const SERVER_ENTRY = join(here, '..', 'src', 'server.js');

export interface ClusterServerOptions {
  workers: number;
  /** Partial agent config, merged one level deep into config/agent.yaml. */
  agent?: Record<string, Record<string, unknown>>;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Extra node flags for the server process (e.g. `--cpu-prof --cpu-prof-dir=…` to profile it). */
  nodeArgs?: string[];
}

export interface ClusterServer {
  url: string;
  pid: number;
  workers: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function writeAgentConfig(dir: string, overrides: ClusterServerOptions['agent']): string {
  const base = parse(readFileSync('config/agent.yaml', 'utf8')) as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides ?? {})) {
    base[key] = { ...(base[key] as Record<string, unknown> | undefined), ...value };
  }
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, stringify(base));
  return file;
}

export async function startClusterServer(options: ClusterServerOptions): Promise<ClusterServer> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dir,
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: join(dir, 'data'),
    AGENT_CONFIG: writeAgentConfig(dir, options.agent),
    WORKERS: String(options.workers),
    LOG_LEVEL: 'info',
    // Capacity is what is measured here, not the refusal at it: per worker, well above the level.
    MAX_CONCURRENT_CALLS: '1000',
    MAX_SOCKETS_PER_ADDRESS: '5000',
    ...options.env,
  };
  const proc: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), SERVER_ENTRY], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  // BENCH_SERVER_LOG=file: every server log line is appended there too (to see what a failed call did).
  const logFile = process.env.BENCH_SERVER_LOG;
  const keep = (line: string) => {
    if (logFile) appendFileSync(logFile, line + '\n');
    tail.push(line);
    if (tail.length > 20) tail.shift();
  };
  createInterface({ input: proc.stderr! }).on('line', keep);
  const ready = new Promise<void>((resolve, reject) => {
    let seen = 0;
    const timer = setTimeout(() => reject(new Error(`server did not get ready in time:\n${tail.join('\n')}`)), options.readyTimeoutMs ?? 120_000);
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      keep(line);
      if (line.includes('voice agent ready at') && ++seen === options.workers) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before it was ready:\n${tail.join('\n')}`));
    });
  });
  await ready;
  return {
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid!,
    workers: options.workers,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise<void>((r) => proc.once('exit', () => r()));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
