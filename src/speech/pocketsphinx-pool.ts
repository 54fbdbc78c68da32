/**
 * A bounded pool of long-lived pocketsphinx decoder processes (scripts/pocketsphinx-decoder.py on
 * Debian's python3-pocketsphinx). Each process loads the acoustic model once (~300 ms) and then
 * decodes whole utterances in ~20–60 ms, switching JSGF grammars per request.
 *
 * Why processes and not an addon: no compiler or node-gyp step, `npm ci` works without the system
 * packages, and a decoder crash cannot take the call server down. One process per core by default;
 * extra requests queue.
 *
 * Streams: each process also keeps a few decoders (`streamDecoders`, ~45 MB each with the open
 * model) that decode an utterance while the caller is still speaking, so at the caller's pause only
 * the last audio is left to decode. They are per machine like the processes: a stream that finds
 * none free is not opened and its utterance is decoded whole, as before.
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
  /** Stream decoders per process (see `openStream`); 0 turns streaming off. Default 2. */
  streamDecoders?: number;
}

/**
 * One utterance decoded as it is spoken, on one decoder process; messages to a process are handled
 * in order, so `finish` answers for all the audio fed before it.
 */
export interface DecodeStream {
  /** More audio, 16 kHz PCM16 little-endian; nothing comes back (a failure shows at `finish`). */
  feed(pcm16kLe: Buffer): void;
  /** The last audio (may be empty), then the utterance's result. The stream is done after this. */
  finish(pcm16kLe: Buffer, signal?: AbortSignal): Promise<DecodeResult>;
  /** Abandon the utterance; no result. Idempotent. */
  drop(): void;
}

export const DEFAULT_STREAM_DECODERS = 2;

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
  /** Stream decoders the process has, and how many open streams use one. */
  streamSlots: number;
  streamsOpen: number;
  /** Stream `finish` requests awaiting their reply, by request id. */
  finishing: Map<number, { job: Job; timer: NodeJS.Timeout }>;
  gone: boolean;
}

export class PocketsphinxPool {
  private readonly size: number;
  private readonly python: string;
  private readonly script: string;
  private readonly modelDir: string | undefined;
  private readonly decodeTimeoutMs: number;
  private readonly preloadLm: string | undefined;
  private readonly streamDecoders: number;
  private nextStreamId = 1;
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
    this.streamDecoders = Math.max(0, options.streamDecoders ?? DEFAULT_STREAM_DECODERS);
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
      worker.gone = true;
      if (worker.timer) clearTimeout(worker.timer);
      for (const { job, timer } of worker.finishing.values()) {
        clearTimeout(timer);
        job.reject(new Error('pocketsphinx pool closed'));
      }
      worker.finishing.clear();
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
      PS_STREAM_DECODERS: String(this.streamDecoders),
    };
    const child = spawn(this.python, ['-u', this.script], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const worker: Worker = {
      child, ready: false, job: undefined, jobId: 0, timer: undefined, stdoutBuffer: '', stderrTail: '',
      streamSlots: 0, streamsOpen: 0, finishing: new Map(), gone: false,
    };
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
    let reply: { ready?: boolean; streams?: number; id?: number; text?: string; confidence?: number; ms?: number; cpuMs?: number; ascore?: number; frames?: number; error?: string };
    try {
      reply = JSON.parse(line) as typeof reply;
    } catch {
      return;
    }
    if (reply.ready) {
      worker.ready = true;
      worker.streamSlots = reply.streams ?? 0;
      this.startFailures = 0;
      this.dispatch();
      return;
    }
    const finishing = reply.id !== undefined ? worker.finishing.get(reply.id) : undefined;
    if (finishing) {
      worker.finishing.delete(reply.id!);
      clearTimeout(finishing.timer);
      worker.streamsOpen = Math.max(0, worker.streamsOpen - 1);
      settleReply(finishing.job, reply);
      return;
    }
    const job = worker.job;
    if (!job || reply.id !== worker.jobId) return;
    if (worker.timer) clearTimeout(worker.timer);
    worker.job = undefined;
    worker.timer = undefined;
    settleReply(job, reply);
    this.dispatch();
  }

  /**
   * Start decoding an utterance as it is spoken, with `search`, on a process with a free stream
   * decoder (not `avoid`'s, when another has one: the two passes of an utterance run side by side).
   * Null when none is free or streaming is off: decode the utterance whole instead.
   */
  openStream(search: DecodeSearch, avoid?: DecodeStream): DecodeStream | null {
    if (this.closed) return null;
    this.start();
    const avoidWorker = avoid ? this.streamWorkers.get(avoid) : undefined;
    const free = this.workers.filter((w) => w.ready && !w.gone && w.streamsOpen < w.streamSlots);
    const worker = free.filter((w) => w !== avoidWorker).sort((a, b) => a.streamsOpen - b.streamsOpen)[0] ?? free[0];
    if (!worker) return null;
    worker.streamsOpen++;
    const id = this.nextStreamId++;
    let started = false;
    let done = false;
    const searchFields = typeof search === 'string' ? { jsgf: search } : { lm: search.lm };
    const send = (header: Record<string, unknown>, pcm: Buffer) => {
      const first = started ? {} : searchFields;
      started = true;
      worker.child.stdin.write(JSON.stringify({ ...header, stream: id, ...first, bytes: pcm.length }) + '\n');
      if (pcm.length > 0) worker.child.stdin.write(pcm);
    };
    const stream: DecodeStream = {
      feed: (pcm) => {
        if (done || worker.gone || pcm.length === 0) return;
        send({ op: 'feed' }, pcm);
      },
      finish: (pcm, signal) => {
        if (done) return Promise.reject(new Error('pocketsphinx stream already finished'));
        done = true;
        this.streamWorkers.delete(stream);
        if (worker.gone) return Promise.reject(new Error('pocketsphinx decoder of this stream exited'));
        if (signal?.aborted) {
          send({ op: 'drop' }, Buffer.alloc(0));
          worker.streamsOpen = Math.max(0, worker.streamsOpen - 1);
          return Promise.reject(abortError('decode'));
        }
        return this.finishStream(worker, send, pcm, signal);
      },
      drop: () => {
        if (done) return;
        done = true;
        this.streamWorkers.delete(stream);
        if (worker.gone) return;
        if (started) send({ op: 'drop' }, Buffer.alloc(0));
        worker.streamsOpen = Math.max(0, worker.streamsOpen - 1);
      },
    };
    this.streamWorkers.set(stream, worker);
    return stream;
  }

  private readonly streamWorkers = new Map<DecodeStream, Worker>();

  private finishStream(worker: Worker, send: (header: Record<string, unknown>, pcm: Buffer) => void, pcm: Buffer, signal: AbortSignal | undefined): Promise<DecodeResult> {
    return new Promise<DecodeResult>((resolve, reject) => {
      const requestId = this.nextJobId++;
      const job: Job = {
        pcm,
        search: '',
        signal,
        settled: false,
        resolve: (result) => this.settle(job, () => resolve(result)),
        reject: (error) => this.settle(job, () => reject(error)),
        // The decoder still finishes (a few ms) and frees its stream decoder; the reply is ignored.
        onAbort: () => job.reject(abortError('decode')),
      };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      const timer = setTimeout(() => {
        job.reject(new Error(`pocketsphinx stream finish timed out after ${this.decodeTimeoutMs} ms; restarting decoder`));
        worker.child.kill('SIGKILL');
      }, this.decodeTimeoutMs);
      worker.finishing.set(requestId, { job, timer });
      send({ op: 'finish', id: requestId }, pcm);
    });
  }

  private onWorkerGone(worker: Worker, reason: string): void {
    const index = this.workers.indexOf(worker);
    if (index < 0) return; // already handled ('error' and 'exit' can both fire)
    this.workers.splice(index, 1);
    worker.gone = true;
    if (worker.timer) clearTimeout(worker.timer);
    for (const { job, timer } of worker.finishing.values()) {
      clearTimeout(timer);
      job.reject(new Error(`pocketsphinx ${reason}`));
    }
    worker.finishing.clear();
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

type Reply = { id?: number; text?: string; confidence?: number; ms?: number; cpuMs?: number; ascore?: number; frames?: number; error?: string };

function settleReply(job: Job, reply: Reply): void {
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
}
