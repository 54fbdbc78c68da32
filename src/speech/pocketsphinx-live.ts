/**
 * An utterance's two offline recognition passes (grammar, open vocabulary) fed to stream decoders
 * while the caller speaks, so the decode at the caller's pause only finalises them. See
 * pocketsphinx-stt.ts for when it is used, pocketsphinx-pool.ts for the stream decoders.
 */
import { concatBytes, mulawToPcm16, pcm16ToLeBytes, upsample2xLinear } from './audio-convert.js';
import { lineSnrDb } from './line-level.js';
import type { DecodeResult, DecodeStream } from './pocketsphinx-pool.js';
import { choose, type Heard } from './pass-choice.js';

const SAMPLE_RATE = 8000;

/** Audio as the model wants it: μ-law 8 kHz → PCM16 16 kHz little-endian. */
const modelPcm = (mulaw: Uint8Array): Buffer => pcm16ToLeBytes(upsample2xLinear(mulawToPcm16(mulaw)));

/** Audio fed to a live decode in pieces of about this much (fewer pipe messages than 20 ms frames). */
const FEED_BYTES = (160 * SAMPLE_RATE) / 1000;

/** One utterance's two passes fed as it is spoken (see the module comment). */
export class LiveDecode {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private done = false;

  constructor(
    readonly jsgf: string,
    private readonly grammar: DecodeStream,
    private readonly open: DecodeStream | undefined,
    private readonly fitThreshold: number,
  ) {}

  write(mulaw: Uint8Array): void {
    if (this.done) return;
    this.pending.push(mulaw);
    this.pendingBytes += mulaw.length;
    if (this.pendingBytes >= FEED_BYTES) {
      const pcm = modelPcm(concatBytes(this.pending));
      this.pending = [];
      this.pendingBytes = 0;
      this.grammar.feed(pcm);
      this.open?.feed(pcm);
    }
  }

  /** The rest of the audio, and both passes' verdict; `utterance`: all of it (line level). */
  async finish(utterance: Uint8Array, signal: AbortSignal): Promise<Heard> {
    this.done = true;
    const pcm = modelPcm(concatBytes(this.pending));
    this.pending = [];
    const grammar = this.grammar.finish(pcm, signal);
    const open = this.open?.finish(pcm, signal);
    open?.catch(() => undefined); // awaited below
    const g = await grammar;
    let o: DecodeResult | undefined;
    try {
      o = await open;
    } catch (error) {
      if (signal.aborted) throw error;
      o = undefined; // as for a whole decode: without the open pass the grammar result stands
    }
    return choose(g, o, this.fitThreshold, lineSnrDb(mulawToPcm16(utterance)));
  }

  drop(): void {
    this.done = true;
    this.grammar.drop();
    this.open?.drop();
  }
}
