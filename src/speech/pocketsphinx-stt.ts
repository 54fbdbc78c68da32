/**
 * Offline STT: pocketsphinx with a per-turn JSGF grammar, decoding each utterance whole after the
 * session's VAD has cut it (pocketsphinx's own VAD would re-segment it and break the grammar).
 * With an open-vocabulary model (`openLm`), each utterance is also decoded with it, in parallel on
 * another decoder process, and the transcript carries both passes (`recognition`): a grammar can
 * only return in-grammar text, so speech the grammar did not expect comes back as confident
 * nonsense unless something else listens too.
 *
 * Per call: a ring buffer of the last `preRollMs` of audio, so the first syllable before the VAD
 * onset is kept; from `speechStarted()` to `speechEnded()` frames are collected; the utterance is
 * upsampled to 16 kHz (the en-us model's rate) and sent to a shared long-lived decoder pool.
 *
 * Streamed while spoken: when the pool has stream decoders free, the utterance's audio is fed to
 * both passes as it arrives (`LiveDecode`), so the decode at the caller's pause only finalises
 * (a few ms instead of a whole-utterance decode, which under load was most of the wait). If the
 * caller speaks on after that pause, the utterance so far is fed again to new streams; without a
 * free stream decoder, the utterance is decoded whole at the pause, as before.
 */
import type { SpeechToText, SttHints, SttOpenOptions, SttStream } from './stt.js';
import { concatBytes, mulawToPcm16, pcm16ToLeBytes, upsample2xLinear, upsample2xSinc } from './audio-convert.js';
import { DEFAULT_JSGF } from './default-grammar.js';
import { lineSnrDb } from './line-level.js';
import { preRollStart } from './pre-roll.js';
import { PocketsphinxPool, type DecodeResult, type PocketsphinxPoolOptions } from './pocketsphinx-pool.js';
import { LiveDecode } from './pocketsphinx-live.js';
import { CLEAN_SNR_DB, choose, type Heard } from './pass-choice.js';

export type { Heard } from './pass-choice.js';

const SAMPLE_RATE = 8000;
/** Longest utterance kept; a caller talking longer than this is cut (grammar answers are short). */
const MAX_UTTERANCE_MS = 30_000;

export interface PocketsphinxSttOptions extends PocketsphinxPoolOptions {
  /** Share one pool between engines/tests; otherwise the engine owns one. */
  pool?: PocketsphinxPool;
  /** Grammar when the hints carry none. */
  defaultJsgf?: string;
  /** ARPA language model for the open-vocabulary pass; without it only the grammar pass runs. */
  openLm?: string;
  /**
   * Believe the open pass when it explains the audio better than the grammar path by more than
   * this (acoustic log score per 10 ms frame). Tuned on the understanding benchmark's tuning part.
   */
  fitThreshold?: number;
}

export const DEFAULT_FIT_THRESHOLD = 2;

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
  private readonly recognizer: Recognizer;

  constructor(options: PocketsphinxSttOptions = {}) {
    this.ownsPool = !options.pool;
    this.pool = options.pool ?? new PocketsphinxPool({ ...options, preloadLm: options.preloadLm ?? options.openLm });
    this.defaultJsgf = options.defaultJsgf ?? DEFAULT_JSGF;
    this.recognizer = new Recognizer(this.pool, options.openLm, options.fitThreshold ?? DEFAULT_FIT_THRESHOLD);
  }

  /** Decodes one whole utterance (μ-law 8 kHz) both ways; for benchmarks and tools. */
  recognize(mulaw: Uint8Array, jsgf: string, signal?: AbortSignal): Promise<Heard> {
    return this.recognizer.recognize(mulaw, jsgf, signal);
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
    return new PocketsphinxSttStream(this.recognizer, this.defaultJsgf, options);
  }
}

/** Runs the grammar pass and (if configured) the open pass in parallel and picks one. */
export class Recognizer {
  constructor(
    private readonly pool: PocketsphinxPool,
    private readonly openLm: string | undefined,
    private readonly fitThreshold: number,
  ) {}

  async recognize(mulaw: Uint8Array, jsgf: string, signal?: AbortSignal): Promise<Heard> {
    const pcm8k = mulawToPcm16(mulaw);
    // The model wants 16 kHz. On a clean line interpolate with a sinc filter, which leaves 4–8 kHz
    // empty; linear interpolation mirrors the speech band up there. On a noisy line keep linear
    // interpolation: the mirror is then mostly line noise, and the noisy-line pass choice
    // (noiseAdjustedThreshold) was calibrated with it. Measured on the understanding benchmark's
    // tuning part (intent / slots): linear everywhere 66.1 % / 56.7 %, sinc everywhere 75.0 % / 55.0 %
    // but then the −38 dBFS noisy-line replay fixture went wrong (the grammar heard "book" in an hours
    // question; with the line's noise floor put into 4–8 kHz instead, a "goodbye" became "move my").
    const snrDb = lineSnrDb(pcm8k);
    const noisy = snrDb !== null && snrDb < CLEAN_SNR_DB;
    const pcm = pcm16ToLeBytes(noisy ? upsample2xLinear(pcm8k) : upsample2xSinc(pcm8k));
    // Grammar first in the queue: it is the cheap pass, and alone it is enough for most answers.
    const grammar = this.pool.decode(pcm, jsgf, signal);
    const open = this.openLm ? this.pool.decode(pcm, { lm: this.openLm }, signal) : undefined;
    open?.catch(() => undefined); // awaited below; a grammar failure must not leave it unhandled
    const g = await grammar;
    let o: DecodeResult | undefined;
    try {
      o = await open;
    } catch (error) {
      if (signal?.aborted) throw error;
      o = undefined; // the open pass is an extra: without it the grammar result stands
    }
    return choose(g, o, this.fitThreshold, snrDb);
  }

  /** Both passes as streams, or null when the pool has no stream decoders free for them. */
  openLive(jsgf: string): LiveDecode | null {
    const grammar = this.pool.openStream(jsgf);
    if (!grammar) return null;
    const open = this.openLm ? this.pool.openStream({ lm: this.openLm }, grammar) : undefined;
    if (open === null) {
      grammar.drop();
      return null;
    }
    return new LiveDecode(jsgf, grammar, open, this.fitThreshold);
  }
}

class PocketsphinxSttStream implements SttStream {
  readonly decodesAtPause = true;
  private readonly preRoll: ByteRing;
  private utterance: Uint8Array[] | undefined;
  private utteranceBytes = 0;
  private hints: SttHints;
  private closed = false;
  /** The utterance's passes fed as it is spoken; none once a pause finalised them (or no decoder was free). */
  private live: LiveDecode | undefined;
  /** After a pause: voiced frames in a row (the caller speaking on), and whether a new live decode was tried. */
  private voicedRun = 0;
  private resumeTried = false;
  /** A decode started at the caller's last pause, to be used if the turn ends without more speech. */
  private early: { result: Promise<Heard>; jsgf: string; controller: AbortController } | undefined;
  /** Aborts in-flight decodes when the stream closes. */
  private readonly controller = new AbortController();
  private readonly onAbort = () => this.close();

  constructor(
    private readonly recognizer: Recognizer,
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
      const frame = mulaw.slice(); // the caller may reuse its frame buffer
      this.utterance.push(frame);
      this.utteranceBytes += mulaw.length;
      this.feedLive(frame);
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
    const result = this.decodeSoFar(concatBytes(this.utterance), jsgf, signal);
    result.catch(() => undefined); // surfaced (or dropped) when the turn ends
    this.early = { result, jsgf, controller };
    // What the caller said up to the pause, for turn-taking that weighs whether they sounded done
    // (and understanding's passes, for the record). Only while that pause is still the latest news:
    // after the turn ended the final says it.
    void result.then((heard) => {
      if (this.closed || controller.signal.aborted || this.early?.result !== result) return;
      this.options.onEvent({ type: 'transcript-partial', text: heard.text.trim(), speculative: true, recognition: heard.recognition });
    }, () => undefined);
  }

  speechStarted(): void {
    if (this.closed || this.utterance) return;
    this.dropEarly();
    // From where the speech rose out of the line noise, not the ring's start: see pre-roll.ts.
    const ring = this.preRoll.snapshot();
    const preRoll = ring.subarray(preRollStart(ring));
    this.preRoll.clear();
    this.utterance = [preRoll];
    this.utteranceBytes = preRoll.length;
    this.startLive();
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
      this.dropLive();
      void this.report(early.result, performance.now());
      return;
    }
    early?.controller.abort();
    void this.report(this.decodeSoFar(concatBytes(chunks), jsgf, this.controller.signal), performance.now());
  }

  /**
   * The utterance so far, both passes: finalise the live decode if there is one for this grammar
   * (falling back to a whole decode if its decoder failed), else decode it whole.
   */
  private decodeSoFar(utterance: Uint8Array, jsgf: string, signal: AbortSignal): Promise<Heard> {
    const live = this.live;
    this.live = undefined;
    this.resumeTried = false;
    this.voicedRun = 0;
    if (!live || live.jsgf !== jsgf) {
      live?.drop();
      return this.recognizer.recognize(utterance, jsgf, signal);
    }
    const whole = () => this.recognizer.recognize(utterance, jsgf, signal);
    return live.finish(utterance, signal).then(
      // Streamed audio is normalised as it comes (live CMN), not over the whole utterance, so it
      // can hear marginal audio differently: its result stands only when both passes agree on it.
      (heard) => (streamedAgree(heard) ? heard : whole()),
      (error: unknown) => {
        if (signal.aborted) throw error;
        return whole();
      },
    );
  }

  /** Start feeding the utterance so far to new live streams (if the pool has decoders free). */
  private startLive(): void {
    this.dropLive();
    if (!this.utterance) return;
    this.live = this.recognizer.openLive(this.currentJsgf()) ?? undefined;
    this.live?.write(concatBytes(this.utterance));
  }

  private dropLive(): void {
    this.live?.drop();
    this.live = undefined;
  }

  /**
   * A frame of the utterance: to the live decode; or, after a pause finalised it, the caller
   * speaking again (voiced frames) starts a new one with everything so far, once per pause.
   */
  private feedLive(frame: Uint8Array): void {
    if (this.live) return this.live.write(frame);
    if (!this.early || this.resumeTried) return;
    this.voicedRun = isVoiced(frame) ? this.voicedRun + 1 : 0;
    if (this.voicedRun < RESUME_VOICED_FRAMES) return;
    this.resumeTried = true;
    this.startLive();
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
    this.dropLive();
    this.options.signal.removeEventListener('abort', this.onAbort);
    this.controller.abort();
  }

  /** Emits the utterance's transcript; `sttMs` runs from the end of the turn to the transcript. */
  private async report(decoding: Promise<Heard>, started: number): Promise<void> {
    try {
      const result = await decoding;
      if (this.closed) return;
      this.options.onEvent({
        type: 'transcript-final',
        text: result.text,
        confidence: result.text ? result.confidence : 0,
        endOfTurn: true,
        // Wall time from having the audio to the transcript, including any queueing for a decoder.
        sttMs: Math.round(performance.now() - started),
        recognition: result.recognition,
      });
    } catch (error) {
      if (this.closed) return;
      this.options.onEvent({ type: 'error', error: error instanceof Error ? error : new Error(String(error)), fatal: false });
    }
  }
}

/** Both streamed passes heard the same words (or the grammar pass is the only one). */
export function streamedAgree(heard: Heard): boolean {
  const { grammar, open } = heard.recognition;
  if (!open) return true;
  return grammar !== undefined && grammar.text !== '' && grammar.text === open.text;
}

/** Voiced frames in a row that mean the caller speaks on after a pause. */
const RESUME_VOICED_FRAMES = 2;
/** Mean absolute sample level of a voiced frame: well above a phone line's noise floor (−60 dBFS ≈ 30). */
const VOICED_LEVEL = 600;

function isVoiced(mulaw: Uint8Array): boolean {
  const pcm = mulawToPcm16(mulaw);
  let sum = 0;
  for (const x of pcm) sum += Math.abs(x);
  return pcm.length > 0 && sum / pcm.length >= VOICED_LEVEL;
}
