/**
 * A bounded pool of long-lived pocketsphinx decoder processes (scripts/pocketsphinx-decoder.py on
 * Debian's python3-pocketsphinx). Each process loads the acoustic model once (~300 ms) and then
 * decodes whole utterances in ~20–60 ms, switching JSGF grammars per request.
 *
 * Why processes and not an addon: no compiler or node-gyp step, `npm ci` works without the system
 * packages, and a decoder crash cannot take the call server down. One process per core by default;
 * extra requests queue.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { abortError } from '../util/abort.js';

export interface DecodeResult {
  text: string;
  confidence: number;
  /** Time the decoder itself spent, ms (excludes queueing and pipe transfer). */
  decodeMs: number;
  /** CPU time the decoder process spent on it, ms. */
  cpuMs: number;
  /**
   * Acoustic log score of the best path (decoder units, higher is better; 0 when nothing was
   * heard). Comparable between a grammar and an open-vocabulary decode of the same audio.
   */
  acousticScore: number;
  /** 10 ms feature frames decoded. */
  frames: number;
}

/** What to search with: a JSGF grammar (text), or an n-gram language model (ARPA file path). */
export type DecodeSearch = string | { lm: string };

export interface PocketsphinxPoolOptions {
  /** Number of decoder processes (default 1; one per core is the sensible maximum). */
  size?: number;
  /** Python with the `pocketsphinx` module; Debian's, not a pyenv/venv one. */
  python?: string;
  script?: string;
  modelDir?: string;
  /** A request that gets no reply in this time kills its decoder (hung decoder), ms. */
  decodeTimeoutMs?: number;
  /** An ARPA model every decoder loads before it reports ready (loading takes seconds). */
  preloadLm?: string;
}

export const DEFAULT_DECODER_SCRIPT = fileURLToPath(new URL('../../scripts/pocketsphinx-decoder.py', import.meta.url));
export const DEFAULT_PYTHON = '/usr/bin/python3';

interface Job {
  pcm: Buffer;
  search: DecodeSearch;
  signal: AbortSignal | undefined;
  resolve: (result: DecodeResult) => void;
  reject: (error: Error) => void;
  onAbort: () => void;
  settled: boolean;
}

interface Worker {
  child: ChildProcessWithoutNullStreams;
  ready: boolean;
  job: Job | undefined;
  jobId: number;
  timer: NodeJS.Timeout | undefined;
  stdoutBuffer: string;
  stderrTail: string;
}

export class PocketsphinxPool {
  private readonly size: number;
  private readonly python: string;
  private readonly script: string;
  private readonly modelDir: string | undefined;
  private readonly decodeTimeoutMs: number;
  private readonly preloadLm: string | undefined;
  private readonly workers: Worker[] = [];
  private readonly queue: Job[] = [];
  private nextJobId = 1;
  private closed = false;
  /** Consecutive crashes before a worker ever became ready: stops a respawn loop when python/model is missing. */
  private startFailures = 0;

  constructor(options: PocketsphinxPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? 1);
    this.python = options.python ?? DEFAULT_PYTHON;
    this.script = options.script ?? DEFAULT_DECODER_SCRIPT;
    this.modelDir = options.modelDir;
    this.decodeTimeoutMs = options.decodeTimeoutMs ?? 10_000;
    this.preloadLm = options.preloadLm;
  }

  /** Number of decoder processes this pool runs at most. */
  get capacity(): number {
    return this.size;
  }

  /** Start the decoders now (e.g. at server start) instead of on the first utterance. */
  start(): void {
    while (!this.closed && this.workers.length < this.size) this.spawnWorker();
  }

  /** PIDs of live decoder processes (for tests and diagnostics). */
  get pids(): number[] {
    return this.workers.map((w) => w.child.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Decode one whole utterance: 16 kHz PCM16 little-endian bytes, with this JSGF grammar or LM. */
  decode(pcm16kLe: Buffer, search: DecodeSearch, signal?: AbortSignal): Promise<DecodeResult> {
    if (this.closed) return Promise.reject(new Error('pocketsphinx pool is closed'));
    if (signal?.aborted) return Promise.reject(abortError('decode'));
    return new Promise<DecodeResult>((resolve, reject) => {
      const job: Job = {
        pcm: pcm16kLe,
        search,
        signal,
        settled: false,
        resolve: (result) => this.settle(job, () => resolve(result)),
        reject: (error) => this.settle(job, () => reject(error)),
        // A queued job is dropped; an in-flight one finishes in the decoder (tens of ms) and its
        // reply is ignored: killing the process would cost a model reload for every later caller.
        onAbort: () => {
          const index = this.queue.indexOf(job);
          if (index >= 0) this.queue.splice(index, 1);
          job.reject(abortError('decode'));
        },
      };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.start();
      this.dispatch();
    });
  }

  /** Kills all decoders and fails queued work. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('pocketsphinx pool closed'));
    for (const worker of this.workers.splice(0)) {
      if (worker.timer) clearTimeout(worker.timer);
      worker.job?.reject(new Error('pocketsphinx pool closed'));
      worker.child.stdin.destroy();
      worker.child.kill('SIGKILL');
    }
  }

  private settle(job: Job, done: () => void): void {
    if (job.settled) return;
    job.settled = true;
    job.signal?.removeEventListener('abort', job.onAbort);
    done();
  }

  private spawnWorker(): void {
    const env = {
      ...process.env,
      ...(this.modelDir ? { PS_MODEL_DIR: this.modelDir } : {}),
      ...(this.preloadLm ? { PS_PRELOAD_LM: this.preloadLm } : {}),
    };
    const child = spawn(this.python, ['-u', this.script], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const worker: Worker = { child, ready: false, job: undefined, jobId: 0, timer: undefined, stdoutBuffer: '', stderrTail: '' };
    this.workers.push(worker);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onStdout(worker, chunk));
    child.stderr.setEncoding('utf8');
    // Drain stderr (a full pipe would block the decoder) and keep the tail for crash reports.
    child.stderr.on('data', (chunk: string) => {
      worker.stderrTail = (worker.stderrTail + chunk).slice(-2000);
    });
    child.stdin.on('error', () => {}); // EPIPE after a crash; the 'exit' handler reports it
    child.on('error', (error) => this.onWorkerGone(worker, `cannot start ${this.python}: ${error.message}`));
    child.on('exit', (code, sig) => this.onWorkerGone(worker, `decoder exited (code ${code}, signal ${sig})`));
  }

  private onStdout(worker: Worker, chunk: string): void {
    worker.stdoutBuffer += chunk;
    let newline: number;
    while ((newline = worker.stdoutBuffer.indexOf('\n')) >= 0) {
      const line = worker.stdoutBuffer.slice(0, newline).trim();
      worker.stdoutBuffer = worker.stdoutBuffer.slice(newline + 1);
      if (line.startsWith('{')) this.onReply(worker, line);
    }
  }

  private onReply(worker: Worker, line: string): void {
    let reply: { ready?: boolean; id?: number; text?: string; confidence?: number; ms?: number; cpuMs?: number; ascore?: number; frames?: number; error?: string };
    try {
      reply = JSON.parse(line) as typeof reply;
    } catch {
      return;
    }
    if (reply.ready) {
      worker.ready = true;
      this.startFailures = 0;
      this.dispatch();
      return;
    }
    const job = worker.job;
    if (!job || reply.id !== worker.jobId) return;
    if (worker.timer) clearTimeout(worker.timer);
    worker.job = undefined;
    worker.timer = undefined;
    if (reply.error !== undefined) job.reject(new Error(`pocketsphinx: ${reply.error}`));
    else {
      job.resolve({
        text: reply.text ?? '',
        confidence: reply.confidence ?? 0,
        decodeMs: reply.ms ?? 0,
        cpuMs: reply.cpuMs ?? 0,
        acousticScore: reply.ascore ?? 0,
        frames: reply.frames ?? 0,
      });
    }
    this.dispatch();
  }

  private onWorkerGone(worker: Worker, reason: string): void {
    const index = this.workers.indexOf(worker);
    if (index < 0) return; // already handled ('error' and 'exit' can both fire)
    this.workers.splice(index, 1);
    if (worker.timer) clearTimeout(worker.timer);
    const detail = worker.stderrTail.trim() ? `${reason}: ${worker.stderrTail.trim().slice(-500)}` : reason;
    worker.job?.reject(new Error(`pocketsphinx ${detail}`));
    if (this.closed) return;
    if (!worker.ready) this.startFailures++;
    if (this.startFailures >= 3) {
      // The decoder cannot start at all (python3-pocketsphinx or the model missing): fail fast
      // instead of respawning forever. The next decode() tries again.
      this.startFailures = 0;
      for (const job of this.queue.splice(0)) job.reject(new Error(`pocketsphinx unavailable: ${detail}`));
      return;
    }
    if (this.queue.length > 0 || this.workers.length === 0) this.start();
  }

  private dispatch(): void {
    for (const worker of this.workers) {
      if (!worker.ready || worker.job) continue;
      const job = this.queue.shift();
      if (!job) return;
      worker.job = job;
      worker.jobId = this.nextJobId++;
      const search = typeof job.search === 'string' ? { jsgf: job.search } : { lm: job.search.lm };
      const header = JSON.stringify({ id: worker.jobId, ...search, bytes: job.pcm.length }) + '\n';
      worker.child.stdin.write(header);
      worker.child.stdin.write(job.pcm);
      worker.timer = setTimeout(() => {
        job.reject(new Error(`pocketsphinx decode timed out after ${this.decodeTimeoutMs} ms; restarting decoder`));
        worker.child.kill('SIGKILL'); // 'exit' removes it and respawns
      }, this.decodeTimeoutMs);
    }
  }
}
