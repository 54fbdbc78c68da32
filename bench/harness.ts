/**
 * Shared benchmark harness: statistics, machine facts, results files and BENCHMARKS.md sections,
 * the server / fakes child processes (so the callers and the fakes do not share the server's event
 * loop), and a paced fake Twilio caller that measures TTFA and barge-in from the wire.
 *
 * Everything talks to 127.0.0.1 only and every wait is bounded.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeMulaw } from '../src/media/mulaw.js';
import { pcm16ToMulaw } from '../src/speech/audio-convert.js';
import type { CallerTurn, CallRecord } from '../src/store/call-record.js';
import { callerPcm, whiteNoise } from '../testkit/helpers/caller-audio.js';
import { FakeTwilioCaller } from '../testkit/twilio/fake-twilio-caller.js';

export const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const here = dirname(fileURLToPath(import.meta.url));

// ---- statistics and reporting ---------------------------------------------------------------

export interface Stats { n: number; p50: number; p95: number; mean: number; max: number }

export function stats(values: readonly number[]): Stats {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, p50: r(at(0.5)), p95: r(at(0.95)), mean: r(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)), max: r(s.at(-1) ?? NaN) };
}

export const fmt = (s: Stats) => (s.n === 0 ? '–' : `${s.p50} / ${s.p95}`);

export function table(header: string[], rows: Array<Array<string | number>>): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export interface Machine { date: string; nproc: number; cpu: string; node: string; loadavg: number[] }

export function machine(): Machine {
  return {
    date: new Date().toISOString(),
    nproc: Number(execSync('nproc').toString().trim()),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export const machineLine = (m: Machine, end?: Machine) =>
  `${m.date} · nproc ${m.nproc} · ${m.cpu} · Node ${m.node} · load average ${m.loadavg.join(', ')} at start` +
  (end ? `, ${end.loadavg.join(', ')} at end` : '');

/** `--name value` / `--flag` command-line options. */
export function args(): { num(name: string, def: number): number; str(name: string, def: string): string; flag(name: string): boolean; list(name: string, def: number[]): number[] } {
  const argv = process.argv.slice(2);
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    num: (name, def) => Number(get(name) ?? def),
    str: (name, def) => get(name) ?? def,
    flag: (name) => argv.includes(`--${name}`),
    list: (name, def) => (get(name) ? get(name)!.split(',').map(Number) : def),
  };
}

/** Writes bench/results/<name>-<date>.json and replaces this benchmark's section of BENCHMARKS.md. */
export function publish(name: string, results: unknown, markdown: string): void {
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${name}-${new Date().toISOString().slice(0, 10)}.json`;
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  const md = 'BENCHMARKS.md';
  let doc = existsSync(md) ? readFileSync(md, 'utf8') : '# Benchmarks\n\nEach section is rewritten by its `npm run bench:*` (sources in `bench/`, shared harness `bench/harness.ts`); machine, date and load average are in each section.\n';
  const begin = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const section = `${begin}\n${markdown.trim()}\n\nRaw results: \`${file}\`.\n${end}`;
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  doc = a >= 0 && b > a ? doc.slice(0, a) + section + doc.slice(b + end.length) : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(md, doc);
  console.log(`\nwrote ${file} and updated ${md}`);
}

// ---- child processes ------------------------------------------------------------------------

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

export const callerTurns = (r: CallRecord | null) => (r?.turns ?? []).filter((t): t is CallerTurn => t.role === 'caller');

// ---- caller audio ---------------------------------------------------------------------------

export interface Utterance { text: string; frames: Uint8Array[]; /** frame indexes the Deepgram fake would call speech */ speech: boolean[] }

const audioCache = new Map<string, Utterance>();

/** flite `rms` voice over a −60 dBFS noise floor through μ-law, cut into 20 ms frames, each classed speech/silence by energy. */
export function utterance(text: string): Utterance {
  const cached = audioCache.get(text);
  if (cached) return cached;
  // The same noise floor as between utterances: a step from digital silence to noise reads as speech to Silero.
  const pcm = callerPcm(text, 'rms', 100);
  const noise = whiteNoise(pcm.length, -60, text.length);
  const mulaw = pcm16ToMulaw(pcm.map((s, i) => Math.max(-32768, Math.min(32767, s + noise[i]!))));
  const frames: Uint8Array[] = [];
  for (let at = 0; at < mulaw.length; at += 160) {
    const f = new Uint8Array(160).fill(0xff);
    f.set(mulaw.subarray(at, at + 160));
    frames.push(f);
  }
  // The Deepgram fake's rule: mean |sample| above 1000 is speech.
  const speech = frames.map((f) => decodeMulaw(f).reduce((a, s) => a + Math.abs(s), 0) / 160 > 1000);
  const u = { text, frames, speech };
  audioCache.set(text, u);
  return u;
}

/** A quiet phone line (≈ −60 dBFS white noise), looped between utterances. */
const NOISE = pcm16ToMulaw(whiteNoise(8000, -60, 7));
const noiseFrame = (k: number) => NOISE.subarray((k % 50) * 160, (k % 50) * 160 + 160);

// ---- the paced caller -----------------------------------------------------------------------

/**
 * A Twilio peer that streams 20 ms frames on an absolute real-time schedule for the whole call
 * (noise between utterances, catching up after a late timer like a real jitter-free source),
 * plays our audio back in real time (FakeTwilioCaller: marks echoed as played, `clear` honoured),
 * and timestamps everything on the wire with `now()`.
 */
export class BenchCaller {
  readonly twilio: FakeTwilioCaller;
  readonly mediaAt: number[] = [];
  readonly clearAt: number[] = [];
  closedAt: number | null = null;
  private queue: Array<{ frame: Uint8Array; speech: boolean }> = [];
  private drained: (() => void) | null = null;
  private firstSpeechAt: number | null = null;
  private lastSpeechAt: number | null = null;
  private k = 0;
  private t0 = 0;
  private timer: NodeJS.Timeout | null = null;

  /** `url`: the server's http://127.0.0.1:PORT base. */
  constructor(url: string, playback: 'realtime' | 'instant' = 'realtime') {
    this.twilio = new FakeTwilioCaller({ url: `${url.replace(/^http/, 'ws')}/media`, playback, from: `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}` });
    this.twilio.ws.on('message', (data) => {
      const at = now();
      const event = (JSON.parse(data.toString()) as { event: string }).event;
      if (event === 'media') this.mediaAt.push(at);
      else if (event === 'clear') this.clearAt.push(at);
    });
    this.twilio.ws.on('close', () => (this.closedAt = now()));
    this.twilio.ws.on('error', () => undefined);
  }

  get callSid(): string {
    return this.twilio.callSid;
  }

  async start(): Promise<void> {
    await this.twilio.start();
    this.t0 = performance.now();
    this.tick();
  }

  private tick(): void {
    const due = () => this.t0 + this.k * 20;
    while (due() <= performance.now() + 1) {
      if (this.twilio.ws.readyState !== this.twilio.ws.OPEN) return;
      const next = this.queue.shift();
      const frame = next?.frame ?? noiseFrame(this.k);
      this.twilio.send({
        event: 'media',
        sequenceNumber: String(this.k + 3),
        media: { track: 'inbound', chunk: String(this.k + 1), timestamp: String(this.k * 20), payload: Buffer.from(frame).toString('base64') },
        streamSid: this.twilio.streamSid,
      });
      if (next?.speech) {
        this.firstSpeechAt ??= now();
        this.lastSpeechAt = now();
      }
      this.k++;
      if (next && this.queue.length === 0) this.drained?.();
    }
    this.timer = setTimeout(() => this.tick(), Math.max(0, due() - performance.now()));
  }

  /** Streams the utterance in real time; resolves when its last frame went out. */
  say(u: Utterance): Promise<{ firstSpeechAt: number; lastSpeechAt: number }> {
    this.firstSpeechAt = null;
    this.lastSpeechAt = null;
    this.queue.push(...u.frames.map((frame, i) => ({ frame, speech: u.speech[i]! })));
    return new Promise((resolve) => {
      this.drained = () => {
        this.drained = null;
        resolve({ firstSpeechAt: this.firstSpeechAt ?? now(), lastSpeechAt: this.lastSpeechAt ?? now() });
      };
    });
  }

  /** First outbound media frame after `t` (epoch ms). */
  async mediaAfter(t: number, timeoutMs = 15_000): Promise<number> {
    await this.until(() => this.mediaAt.some((m) => m > t), timeoutMs, 'agent audio');
    return this.mediaAt.find((m) => m > t)!;
  }

  async clearAfter(t: number, timeoutMs = 5_000): Promise<number> {
    await this.until(() => this.clearAt.some((m) => m > t), timeoutMs, 'clear');
    return this.clearAt.find((m) => m > t)!;
  }

  /** The agent finished speaking: everything received has played and nothing new came for a while. */
  async quiet(timeoutMs = 30_000, quietMs = 400): Promise<void> {
    await this.until(
      () => this.mediaAt.length > 0 && this.twilio.playedAudioMs >= this.twilio.receivedAudioBytes / 8 - 1 && now() - this.mediaAt.at(-1)! > quietMs,
      timeoutMs,
      'agent to finish speaking',
    );
  }

  async until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const started = now();
    while (!predicate()) {
      if (this.closedAt !== null) throw new Error(`socket closed while waiting for ${what}`);
      if (now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await sleep(5);
    }
  }

  /** Twilio `stop`, then close the socket. */
  async hangUp(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.twilio.ws.readyState === this.twilio.ws.OPEN) this.twilio.stop();
    await sleep(50);
    this.twilio.close();
  }
}

// ---- a scripted call ------------------------------------------------------------------------

export interface CallResult {
  callSid: string;
  /** Per caller turn: end of speech audio sent → first agent frame received, ms. */
  wireTtfa: number[];
  record: CallRecord | null;
  error: string | null;
}

/** Greeting, then each utterance once the agent is quiet; TTFA measured on the wire per turn. */
export async function scriptedCall(url: string, script: Utterance[], options: { startDelayMs?: number } = {}): Promise<CallResult> {
  await sleep(options.startDelayMs ?? 0);
  const caller = new BenchCaller(url);
  const wireTtfa: number[] = [];
  let error: string | null = null;
  try {
    await caller.start();
    await caller.quiet(60_000);
    for (const u of script) {
      const { lastSpeechAt } = await caller.say(u);
      wireTtfa.push((await caller.mediaAfter(lastSpeechAt, 20_000)) - lastSpeechAt);
      await caller.quiet(60_000);
    }
  } catch (e) {
    error = (e as Error).message;
  }
  await caller.hangUp();
  let record: CallRecord | null = null;
  try {
    record = await fetchRecord(url, caller.callSid);
  } catch (e) {
    error ??= `record: ${(e as Error).message}`;
  }
  return { callSid: caller.callSid, wireTtfa, record, error };
}

/** Turn metrics of a set of calls: record TTFA and stages, wire TTFA, errors. */
export function summarize(calls: CallResult[]) {
  const turns = calls.flatMap((c) => callerTurns(c.record));
  const pick = (k: keyof CallerTurn['metrics']) => turns.map((t) => t.metrics[k]).filter((v): v is number => typeof v === 'number');
  return {
    calls: calls.length,
    turns: turns.length,
    ttfa: stats(pick('ttfaMs')),
    wireTtfa: stats(calls.flatMap((c) => c.wireTtfa)),
    endpoint: stats(pick('endpointMs')),
    stt: stats(pick('sttMs')),
    llm: stats(pick('llmFirstTokenMs')),
    tts: stats(pick('ttsFirstByteMs')),
    errors: calls.filter((c) => c.error).length,
    errorSamples: [...new Set(calls.flatMap((c) => (c.error ? [c.error] : [])))].slice(0, 5),
    misheard: turns.filter((t) => t.input !== 'speech').length,
  };
}

/** Runs `n` scripted calls at once (starts spread over `spreadMs`) and samples the server meanwhile. */
export async function concurrentCalls(server: Child & { url: string }, n: number, script: Utterance[], spreadMs = 1000) {
  const rssBefore = (await serverStats(server)).rss;
  await resetStats(server);
  const started = now();
  const calls = await Promise.all(Array.from({ length: n }, (_, i) => scriptedCall(server.url, script, { startDelayMs: (i * spreadMs) / n })));
  const s = await serverStats(server);
  return {
    n,
    wallMs: Math.round(now() - started),
    summary: summarize(calls),
    loop: s.loop,
    cpuPercent: Math.round(((s.cpuUserMs + s.cpuSystemMs) / s.wallMs) * 1000) / 10,
    rssBeforeMb: Math.round(rssBefore / 1e5) / 10,
    maxRssMb: Math.round(s.maxRss / 1e5) / 10,
    rssPerCallMb: Math.round(((s.maxRss - rssBefore) / n / 1e6) * 100) / 100,
    calls,
  };
}
