/**
 * Offline TTS: Debian's `flite` CLI. Voice `kal` is native 8 kHz (no resampling, ~20 ms per
 * sentence); 16 kHz voices (slt, rms, awb) are decimated to 8 kHz. flite cannot write WAV to a
 * pipe, so each sentence goes through a temp file (on /dev/shm when available: RAM, no disk I/O).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TextToSpeech, TtsChunk, TtsStreamOptions } from './tts.js';
import { decimate16kTo8k, parseWav, pcm16ToMulaw, wavPcm16 } from './audio-convert.js';
import { abortError, raceAbort } from '../util/abort.js';
import { splitSentences } from '../util/sentences.js';

export interface FliteTtsOptions {
  /** flite voice name (`flite -lv`), or a path to a .flitevox file. Default `kal`. */
  voice?: string;
  fliteBin?: string;
  /** Where the per-sentence WAV is written. Default /dev/shm, else the OS temp dir. */
  tmpDir?: string;
  /** Recently synthesised sentences kept in memory (besides warmed prompts). 0 disables. */
  lruSize?: number;
  /** Audio is yielded in chunks of at most this many ms (finer playback accounting). */
  chunkMs?: number;
}

const SAMPLE_RATE = 8000;

/** Whitespace-normalised text, used both for flite and as the cache key. */
export function normaliseTtsText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export { splitSentences };

/** Splits μ-law audio into chunks of at most `chunkBytes` (views, no copy). */
export function chunkAudio(audio: Uint8Array, chunkBytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < audio.length; i += chunkBytes) out.push(audio.subarray(i, i + chunkBytes));
  return out;
}

let fileCounter = 0;

export class FliteTts implements TextToSpeech {
  readonly name: string;
  private readonly voice: string;
  private readonly fliteBin: string;
  private readonly tmpDir: string;
  private readonly lruSize: number;
  private readonly chunkBytes: number;
  /** Warmed prompts: never evicted. */
  private readonly warmed = new Map<string, Uint8Array>();
  /** Map iteration order = recency; the first key is the least recently used. */
  private readonly lru = new Map<string, Uint8Array>();

  constructor(options: FliteTtsOptions = {}) {
    this.voice = options.voice ?? 'kal';
    this.name = `flite:${this.voice}`;
    this.fliteBin = options.fliteBin ?? 'flite';
    this.tmpDir = options.tmpDir ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
    this.lruSize = options.lruSize ?? 64;
    this.chunkBytes = Math.max(1, Math.round(((options.chunkMs ?? 500) * SAMPLE_RATE) / 1000));
  }

  /** True when this exact text would be served from memory. */
  isCached(text: string): boolean {
    const key = normaliseTtsText(text);
    return this.warmed.has(key) || this.lru.has(key);
  }

  async warm(texts: readonly string[], signal?: AbortSignal): Promise<void> {
    for (const text of texts) {
      const key = normaliseTtsText(text);
      if (!key || this.warmed.has(key)) continue;
      this.warmed.set(key, this.lru.get(key) ?? (await this.synthesize(key, signal)));
    }
  }

  async *stream(options: TtsStreamOptions): AsyncIterable<TtsChunk> {
    const { signal } = options;
    const iterator = options.text[Symbol.asyncIterator]();
    try {
      while (!signal.aborted) {
        // Race the text source against the abort so a stalled producer cannot keep us alive.
        const raced = await raceAbort(iterator.next(), signal);
        if (raced.aborted || raced.value.done) return;
        const text = raced.value.value;
        const key = normaliseTtsText(text);
        if (!key) continue;
        // A multi-sentence item is rendered sentence by sentence, the next one synthesising while
        // the current one is yielded: first audio then costs one short sentence, not the paragraph.
        const pieces = this.isCached(key) ? [key] : splitSentences(key);
        let pending = this.audioFor(pieces[0]!, signal);
        for (let i = 0; i < pieces.length; i++) {
          let audio: Uint8Array;
          try {
            audio = await pending;
          } catch (error) {
            if (signal.aborted) return;
            throw error;
          }
          if (i + 1 < pieces.length) {
            pending = this.audioFor(pieces[i + 1]!, signal);
            pending.catch(() => {}); // surfaced when awaited; avoid an unhandled rejection on early exit
          }
          for (const chunk of chunkAudio(audio, this.chunkBytes)) {
            if (signal.aborted) return;
            yield { audio: chunk, text };
          }
        }
      }
    } finally {
      // Tell the producer we are done (e.g. stop an LLM token stream) without waiting on it.
      void iterator.return?.()?.catch?.(() => {});
    }
  }

  private async audioFor(key: string, signal: AbortSignal): Promise<Uint8Array> {
    const warmed = this.warmed.get(key);
    if (warmed) return warmed;
    const cached = this.lru.get(key);
    if (cached) {
      this.lru.delete(key);
      this.lru.set(key, cached);
      return cached;
    }
    const audio = await this.synthesize(key, signal);
    if (this.lruSize > 0) {
      this.lru.set(key, audio);
      while (this.lru.size > this.lruSize) this.lru.delete(this.lru.keys().next().value!);
    }
    return audio;
  }

  /** One flite run: text → temp WAV → μ-law 8 kHz. The child is SIGKILLed on abort. */
  async synthesize(text: string, signal?: AbortSignal): Promise<Uint8Array> {
    if (signal?.aborted) throw abortError('TTS');
    const file = join(this.tmpDir, `flite-${process.pid}-${++fileCounter}.wav`);
    try {
      await new Promise<void>((resolve, reject) => {
        // `-t` takes the text as an argument: no shell, no quoting issues.
        const child = spawn(this.fliteBin, ['-voice', this.voice, '-t', text, '-o', file], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.setEncoding('utf8');
        child.stderr.on('data', (d: string) => (stderr = (stderr + d).slice(-1000)));
        // Reject only once the child is gone, so the temp file is not removed under a live writer.
        const onAbort = () => child.kill('SIGKILL');
        signal?.addEventListener('abort', onAbort, { once: true });
        child.on('error', (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(new Error(`cannot run ${this.fliteBin}: ${error.message}`));
        });
        child.on('exit', (code) => {
          signal?.removeEventListener('abort', onAbort);
          if (signal?.aborted) reject(abortError('TTS'));
          else if (code === 0) resolve();
          else reject(new Error(`flite exited with ${code}: ${stderr.trim()}`));
        });
      });
      const wav = parseWav(await readFile(file));
      let pcm = wavPcm16(wav);
      if (wav.sampleRate === 16000) pcm = decimate16kTo8k(pcm);
      else if (wav.sampleRate !== SAMPLE_RATE) throw new Error(`flite voice ${this.voice} produced ${wav.sampleRate} Hz; only 8 and 16 kHz are supported`);
      return pcm16ToMulaw(pcm);
    } finally {
      await rm(file, { force: true });
    }
  }
}

