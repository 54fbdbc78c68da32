/**
 * Offline STT: pocketsphinx with a per-turn JSGF grammar, decoding each utterance whole after the
 * session's VAD has cut it (pocketsphinx's own VAD would re-segment it and break the grammar).
 *
 * Per call: a ring buffer of the last `preRollMs` of audio, so the first syllable before the VAD
 * onset is kept; from `speechStarted()` to `speechEnded()` frames are collected; the utterance is
 * upsampled to 16 kHz (the en-us model's rate) and sent to a shared long-lived decoder pool.
 */
import type { SpeechToText, SttHints, SttOpenOptions, SttStream } from './stt.js';
import { mulawToPcm16, pcm16ToLeBytes, upsample2xLinear } from './audio-convert.js';
import { DEFAULT_JSGF } from './default-grammar.js';
import { PocketsphinxPool, type DecodeResult, type PocketsphinxPoolOptions } from './pocketsphinx-pool.js';

const SAMPLE_RATE = 8000;
/** Longest utterance kept; a caller talking longer than this is cut (grammar answers are short). */
const MAX_UTTERANCE_MS = 30_000;

export interface PocketsphinxSttOptions extends PocketsphinxPoolOptions {
  /** Share one pool between engines/tests; otherwise the engine owns one. */
  pool?: PocketsphinxPool;
  /** Grammar when the hints carry none. */
  defaultJsgf?: string;
}

/** Fixed-capacity byte ring: keeps only the most recent `capacity` bytes written. */
export class ByteRing {
  private readonly buffer: Uint8Array;
  private start = 0;
  private length = 0;

  constructor(readonly capacity: number) {
    this.buffer = new Uint8Array(Math.max(0, capacity));
  }

  write(bytes: Uint8Array): void {
    const cap = this.capacity;
    if (cap === 0) return;
    const src = bytes.length > cap ? bytes.subarray(bytes.length - cap) : bytes;
    for (let i = 0; i < src.length; i++) {
      this.buffer[(this.start + this.length) % cap] = src[i]!;
      if (this.length < cap) this.length++;
      else this.start = (this.start + 1) % cap;
    }
  }

  /** Oldest to newest. */
  snapshot(): Uint8Array {
    const out = new Uint8Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.buffer[(this.start + i) % this.capacity]!;
    return out;
  }

  clear(): void {
    this.start = 0;
    this.length = 0;
  }
}

export class PocketsphinxStt implements SpeechToText {
  readonly name = 'pocketsphinx';
  readonly pool: PocketsphinxPool;
  private readonly ownsPool: boolean;
  private readonly defaultJsgf: string;

  constructor(options: PocketsphinxSttOptions = {}) {
    this.ownsPool = !options.pool;
    this.pool = options.pool ?? new PocketsphinxPool(options);
    this.defaultJsgf = options.defaultJsgf ?? DEFAULT_JSGF;
  }

  /** Load the acoustic model now rather than on the first caller's first utterance. */
  warm(): void {
    this.pool.start();
  }

  /** Stops the decoders if this engine created them. */
  close(): void {
    if (this.ownsPool) this.pool.close();
  }

  open(options: SttOpenOptions): SttStream {
    return new PocketsphinxSttStream(this.pool, this.defaultJsgf, options);
  }
}

class PocketsphinxSttStream implements SttStream {
  private readonly preRoll: ByteRing;
  private utterance: Uint8Array[] | undefined;
  private utteranceBytes = 0;
  private hints: SttHints;
  private closed = false;
  /** A decode started at the caller's last pause, to be used if the turn ends without more speech. */
  private early: { result: Promise<DecodeResult>; jsgf: string; controller: AbortController } | undefined;
  /** Aborts in-flight decodes when the stream closes. */
  private readonly controller = new AbortController();
  private readonly onAbort = () => this.close();

  constructor(
    private readonly pool: PocketsphinxPool,
    private readonly defaultJsgf: string,
    private readonly options: SttOpenOptions,
  ) {
    this.preRoll = new ByteRing(Math.round((Math.max(0, options.preRollMs) * SAMPLE_RATE) / 1000));
    this.hints = options.hints;
    if (options.signal.aborted) this.closed = true;
    else options.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  write(mulaw: Uint8Array): void {
    if (this.closed) return;
    if (this.utterance) {
      if (this.utteranceBytes + mulaw.length > (MAX_UTTERANCE_MS * SAMPLE_RATE) / 1000) return;
      this.utterance.push(mulaw.slice()); // the caller may reuse its frame buffer
      this.utteranceBytes += mulaw.length;
    } else {
      this.preRoll.write(mulaw);
    }
  }

  speechPaused(): void {
    if (this.closed || !this.utterance) return;
    this.dropEarly();
    const jsgf = this.currentJsgf();
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, this.controller.signal]);
    const result = this.pool.decode(toDecoderPcm(concat(this.utterance)), jsgf, signal);
    result.catch(() => undefined); // surfaced (or dropped) when the turn ends
    this.early = { result, jsgf, controller };
  }

  speechStarted(): void {
    if (this.closed || this.utterance) return;
    this.dropEarly();
    const preRoll = this.preRoll.snapshot();
    this.preRoll.clear();
    this.utterance = [preRoll];
    this.utteranceBytes = preRoll.length;
  }

  speechEnded(): void {
    if (this.closed || !this.utterance) return;
    const chunks = this.utterance;
    this.utterance = undefined;
    this.utteranceBytes = 0;
    const jsgf = this.currentJsgf();
    const early = this.early;
    this.early = undefined;
    // Since the pause only silence arrived (else the VAD would not have ended the turn now), so the
    // early decode heard the whole utterance: use it, unless the grammar changed meanwhile.
    if (early && early.jsgf === jsgf) {
      void this.report(early.result, performance.now());
      return;
    }
    early?.controller.abort();
    void this.decode(concat(chunks), jsgf);
  }

  private currentJsgf(): string {
    return this.hints.jsgf || this.defaultJsgf; // an empty grammar string means "no hint"
  }

  private dropEarly(): void {
    this.early?.controller.abort();
    this.early = undefined;
  }

  setHints(hints: SttHints): void {
    this.hints = hints;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.utterance = undefined;
    this.early = undefined;
    this.options.signal.removeEventListener('abort', this.onAbort);
    this.controller.abort();
  }

  private decode(mulaw: Uint8Array, jsgf: string): Promise<void> {
    return this.report(this.pool.decode(toDecoderPcm(mulaw), jsgf, this.controller.signal), performance.now());
  }

  /** Emits the utterance's transcript; `sttMs` runs from the end of the turn to the transcript. */
  private async report(decoding: Promise<DecodeResult>, started: number): Promise<void> {
    try {
      const result = await decoding;
      if (this.closed) return;
      this.options.onEvent({
        type: 'transcript-final',
        text: result.text.trim(),
        confidence: result.text ? result.confidence : 0,
        endOfTurn: true,
        // Wall time from having the audio to the transcript, including any queueing for a decoder.
        sttMs: Math.round(performance.now() - started),
      });
    } catch (error) {
      if (this.closed) return;
      this.options.onEvent({ type: 'error', error: error instanceof Error ? error : new Error(String(error)), fatal: false });
    }
  }
}

/** The model wants 16 kHz: linear ×2 upsampling of the 8 kHz phone audio is enough. */
function toDecoderPcm(mulaw: Uint8Array): Buffer {
  return pcm16ToLeBytes(upsample2xLinear(mulawToPcm16(mulaw)));
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
