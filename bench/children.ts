/**
 * The server and the provider fakes as child processes, so the callers and the fakes do not share
 * the server's event loop; commands and stats over IPC. Everything on 127.0.0.1, every wait bounded.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallRecord } from '../src/store/call-record.js';
import { sleep } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface ServerProcOptions {
  engines: 'offline' | 'cloud';
  /** Partial agent config, merged one level deep into config/agent.yaml. */
  agent?: Record<string, Record<string, unknown>>;
  env?: Record<string, string>;
  /** Delay the brain's first text of every reply by this much (a stand-in LLM). */
  brainDelayMs?: number;
  /** Replace the VAD by the energy VAD. */
  energyVad?: boolean;
}

export interface ServerStats {
  cpuUserMs: number;
  cpuSystemMs: number;
  wallMs: number;
  rss: number;
  maxRss: number;
  heapUsed: number;
  loop: { p50: number; p99: number; max: number; mean: number };
  aborts: AbortEvent[];
}

export interface AbortEvent { callSid: string; what: 'brain' | 'tts'; at: number; /** TTS: when its iteration actually ended. */ endedAt?: number; active: boolean }

export class Child {
  private nextId = 1;
  private readonly waiting = new Map<number, (value: unknown) => void>();
  private constructor(readonly proc: ChildProcess, readonly info: Record<string, string>) {
    proc.on('message', (m: { id?: number; result?: unknown }) => {
      if (m.id !== undefined) this.waiting.get(m.id)?.(m.result);
      this.waiting.delete(m.id ?? -1);
    });
  }

  static async start(script: string, options: unknown, timeoutMs = 60_000): Promise<Child> {
    const proc = fork(join(here, script), [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const info = await new Promise<Record<string, string>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} did not start in ${timeoutMs} ms`)), timeoutMs);
      proc.once('message', (m: { ready?: Record<string, string> }) => {
        clearTimeout(timer);
        if (m.ready) resolve(m.ready);
        else reject(new Error(`${script}: unexpected first message`));
      });
      proc.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
    });
    return new Child(proc, info);
  }

  request<T>(command: string, timeoutMs = 30_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child did not answer ${command}`)), timeoutMs);
      this.waiting.set(id, (v) => {
        clearTimeout(timer);
        resolve(v as T);
      });
      this.proc.send({ id, command });
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.send({ command: 'exit' });
    await Promise.race([exited, sleep(10_000)]);
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

export async function startServer(options: ServerProcOptions): Promise<Child & { url: string }> {
  const child = await Child.start('server-proc.js', options);
  return Object.assign(child, { url: child.info.url! });
}

export interface FakesOptions {
  text: string;
  /** Deepgram: latency of every Results message (incl. the endpointed final), ms. */
  resultLatencyMs: number;
  /** Deepgram: latency of the answer to Finalize, ms. */
  finalizeLatencyMs: number;
  /** ElevenLabs: before the first audio of each flushed text, ms. */
  ttsFirstByteMs: number;
  msPerWord: number;
  /** When set, an Anthropic Messages fake answers every request with `llmReply` after this first-token delay, ms. */
  llmFirstTokenMs?: number;
  llmReply?: string;
}

/** Starts the fakes process; returns it with the env that points the server's engines at it. */
export async function startFakes(options: FakesOptions): Promise<Child & { env: Record<string, string> }> {
  const child = await Child.start('fakes-proc.js', options);
  return Object.assign(child, {
    env: {
      DEEPGRAM_API_KEY: 'bench-dg',
      DEEPGRAM_URL: child.info.deepgramUrl!,
      ELEVENLABS_API_KEY: 'bench-xi',
      ELEVENLABS_VOICE_ID: 'bench-voice',
      ELEVENLABS_BASE_URL: child.info.elevenlabsUrl!,
      ...(child.info.anthropicUrl ? { ANTHROPIC_API_KEY: 'bench-anthropic', ANTHROPIC_BASE_URL: child.info.anthropicUrl } : {}),
    },
  });
}

export const serverStats = (server: Child) => server.request<ServerStats>('stats');
export const resetStats = (server: Child) => server.request<void>('reset');

export async function fetchRecord(url: string, callSid: string): Promise<CallRecord | null> {
  const res = await fetch(`${url}/calls/${callSid}`, { signal: AbortSignal.timeout(10_000) });
  return res.ok ? ((await res.json()) as CallRecord) : null;
}
