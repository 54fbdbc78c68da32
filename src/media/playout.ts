/**
 * Outbound audio to Twilio with playback accounting.
 *
 * - Re-frames whatever the TTS produced into 20 ms multiples (`chunkMs` per media message), padding
 *   only the very end of an utterance with silence.
 * - Keeps at most `maxLeadMs` of audio queued at Twilio ahead of what Twilio has confirmed played:
 *   each chunk is followed by a named mark, and mark echoes both pace the sending and tell us exactly
 *   which audio (and so which words) the caller has heard.
 * - `clear()` empties Twilio's buffer and our queue. Marks are named `g<generation>:<seq>`; echoes of
 *   an older generation are what `clear` sends back and are never counted as played.
 * - `suspend()` is a `clear` that keeps the utterance: its audio (and the rest still arriving from
 *   the TTS) is held, and `resume()` re-sends it from where the caller stopped hearing it, backed
 *   up a little (or to the start of the sentence) so it picks up naturally.
 */
import { BYTES_PER_MS, FRAME_BYTES, MULAW_SILENCE } from './mulaw.js';
import { markName } from './twilio-wire.js';

export interface PlayoutSink {
  sendMedia(mulaw: Uint8Array): void;
  sendMark(name: string): void;
  sendClear(): void;
}

export interface PlayoutOptions {
  sink: PlayoutSink;
  maxLeadMs: number;
  chunkMs: number;
  /** Monotonic clock, ms (injected for tests). */
  now: () => number;
  /** Called when the first byte of an utterance goes on the wire. */
  onFirstAudio?: (utteranceId: number) => void;
}

export type UtteranceOutcome = 'played' | 'cleared';

export interface HeardReport {
  utteranceId: number;
  text: string;
  heardText: string;
  sentMs: number;
  playedMs: number;
  outcome: UtteranceOutcome | 'playing';
}

interface Segment {
  text: string;
  startByte: number;
  endByte: number;
}

interface Utterance {
  id: number;
  segments: Segment[];
  /** Audio appended but not yet sent. */
  pending: Uint8Array[];
  /** Every byte appended, in order (what a resume re-sends from). */
  history: Uint8Array[];
  /** Held by `suspend()`: nothing is sent until `resume()` or `clear()`. */
  suspended: boolean;
  pendingBytes: number;
  appendedBytes: number;
  sentBytes: number;
  playedBytes: number;
  finished: boolean;
  doneMarkSent: boolean;
  outcome: UtteranceOutcome | null;
  settle: (outcome: UtteranceOutcome) => void;
  done: Promise<UtteranceOutcome>;
}

interface PendingMark {
  utterance: Utterance;
  /** Utterance byte offset reached when this mark is echoed. */
  offsetBytes: number;
  final: boolean;
}

export class Playout {
  private readonly options: PlayoutOptions;
  private readonly chunkBytes: number;
  private readonly utterances: Utterance[] = [];
  private readonly marks = new Map<string, PendingMark>();
  private generation = 0;
  private markSeq = 0;
  private nextUtteranceId = 1;
  private unconfirmedBytes = 0;
  private lastProgressAt = 0;
  private closed = false;

  constructor(options: PlayoutOptions) {
    this.options = options;
    this.chunkBytes = Math.max(FRAME_BYTES, Math.round(options.chunkMs / 20) * FRAME_BYTES);
  }

  /** Start a new agent utterance; audio is appended to it in order. */
  begin(): number {
    let settle!: (o: UtteranceOutcome) => void;
    const done = new Promise<UtteranceOutcome>((resolve) => (settle = resolve));
    const utterance: Utterance = {
      id: this.nextUtteranceId++,
      segments: [],
      pending: [],
      history: [],
      suspended: false,
      pendingBytes: 0,
      appendedBytes: 0,
      sentBytes: 0,
      playedBytes: 0,
      finished: false,
      doneMarkSent: false,
      outcome: null,
      settle,
      done,
    };
    this.utterances.push(utterance);
    return utterance.id;
  }

  append(utteranceId: number, mulaw: Uint8Array, text: string): void {
    const u = this.find(utteranceId);
    if (!u || u.finished || u.outcome || this.closed || mulaw.length === 0) return;
    const last = u.segments.at(-1);
    if (last && last.text === text) last.endByte += mulaw.length;
    else u.segments.push({ text, startByte: u.appendedBytes, endByte: u.appendedBytes + mulaw.length });
    u.history.push(mulaw);
    u.appendedBytes += mulaw.length;
    if (u.suspended) return; // resume() re-sends from the history
    u.pending.push(mulaw);
    u.pendingBytes += mulaw.length;
    this.pump();
  }

  /** No more audio for this utterance; resolves once it was played through or cleared. */
  finish(utteranceId: number): Promise<UtteranceOutcome> {
    const u = this.find(utteranceId);
    if (!u) return Promise.resolve('cleared');
    u.finished = true;
    this.pump();
    return u.done;
  }

  /** Audio is queued here or at Twilio and not yet confirmed played. */
  get isPlaying(): boolean {
    return this.utterances.some((u) => u.outcome === null && !u.suspended && (u.appendedBytes > u.playedBytes || !u.finished));
  }

  /** Twilio echoed a mark: played through, or discarded by a clear of an older generation. */
  onMark(name: string): void {
    const mark = this.marks.get(name);
    if (!mark) return; // older generation (clear echo) or not ours: never counted as played
    this.marks.delete(name);
    const u = mark.utterance;
    const advanced = mark.offsetBytes - u.playedBytes;
    if (advanced > 0) {
      u.playedBytes = mark.offsetBytes;
      this.unconfirmedBytes = Math.max(0, this.unconfirmedBytes - advanced);
    }
    this.lastProgressAt = this.options.now();
    if (mark.final) this.settle(u, 'played');
    this.pump();
  }

  /**
   * Barge-in: drop everything queued here and at Twilio. Returns what each interrupted utterance
   * got through to the caller. No-op (empty) when nothing is playing.
   */
  clear(): HeardReport[] {
    const active = this.utterances.filter((u) => u.outcome === null);
    if (active.length === 0) return [];
    const reports = active.map((u) => this.report(u, 'cleared'));
    if (active.some((u) => u.sentBytes > 0 && !u.suspended)) this.options.sink.sendClear();
    this.generation++;
    this.marks.clear();
    this.unconfirmedBytes = 0;
    active.forEach((u, i) => this.settle(u, 'cleared', reports[i]));
    return reports;
  }

  /**
   * Possible interruption: stop the audio at Twilio (`clear`) but keep the utterances to resume.
   * Returns what the caller heard of the one playing; null when nothing is playing.
   */
  suspend(): HeardReport | null {
    const active = this.utterances.filter((u) => u.outcome === null && !u.suspended);
    if (active.length === 0) return null;
    const playing = active[0]!;
    const report = this.report(playing, 'playing');
    if (active.some((u) => u.sentBytes > 0)) this.options.sink.sendClear();
    this.generation++;
    this.marks.clear();
    this.unconfirmedBytes = 0;
    for (const u of active) {
      const heard = u === playing ? Math.round(report.playedMs * BYTES_PER_MS) : u.playedBytes;
      const at = heard - (heard % FRAME_BYTES);
      u.suspended = true;
      u.pending = [];
      u.pendingBytes = 0;
      u.sentBytes = at;
      u.playedBytes = at;
      u.doneMarkSent = false;
    }
    return report;
  }

  /**
   * Play held utterances on. Each restarts at the start of the sentence the caller was in when it
   * was at most `restartSentenceMs` in, else `backupMs` before where they stopped hearing it.
   * Returns the resume point of the first, ms into it (null when nothing was held).
   */
  resume(options: { backupMs: number; restartSentenceMs: number }): number | null {
    let first: number | null = null;
    for (const u of this.utterances) {
      if (u.outcome !== null || !u.suspended) continue;
      const from = resumePoint(u.segments, u.sentBytes, options.backupMs * BYTES_PER_MS, options.restartSentenceMs * BYTES_PER_MS);
      u.suspended = false;
      u.sentBytes = from;
      u.playedBytes = from;
      u.pending = sliceFrom(u.history, from);
      u.pendingBytes = u.appendedBytes - from;
      first ??= from / BYTES_PER_MS;
    }
    this.pump();
    return first;
  }

  /** An utterance is held by `suspend()`. */
  get isSuspended(): boolean {
    return this.utterances.some((u) => u.outcome === null && u.suspended);
  }

  /** What the caller has heard of an utterance so far. */
  heard(utteranceId: number): HeardReport | undefined {
    const u = this.find(utteranceId);
    return u ? this.report(u, 'playing') : this.finished.get(utteranceId);
  }

  /** Audio of an utterance not yet confirmed played (queued here or at Twilio), ms. */
  unplayedMs(utteranceId: number): number {
    const u = this.find(utteranceId);
    return u ? (u.appendedBytes - u.playedBytes) / BYTES_PER_MS : 0;
  }

  /** Stop for good (call ended): settle everything as cleared, send nothing more. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.marks.clear();
    for (const u of this.utterances) if (u.outcome === null) this.settle(u, 'cleared');
  }

  private pump(): void {
    if (this.closed) return;
    const maxLeadBytes = this.options.maxLeadMs * BYTES_PER_MS;
    for (const u of this.utterances) {
      if (u.outcome !== null) continue;
      if (u.suspended) return; // nothing after a held utterance may overtake it
      while (this.unconfirmedBytes < maxLeadBytes) {
        const chunk = this.takeChunk(u);
        if (!chunk) break;
        this.send(u, chunk, false);
      }
      if (u.finished && u.pendingBytes === 0 && !u.doneMarkSent) {
        u.doneMarkSent = true;
        if (u.sentBytes === 0) {
          this.settle(u, 'played'); // an utterance with no audio at all
          continue;
        }
        this.sendMark(u, true);
      }
      // Later utterances wait until this one has all its audio queued, to keep order.
      if (!(u.finished && u.pendingBytes === 0)) return;
    }
  }

  /** Next chunk of whole frames; at the end of a finished utterance, the padded remainder. */
  private takeChunk(u: Utterance): Uint8Array | null {
    let size = Math.min(this.chunkBytes, u.pendingBytes);
    if (size < this.chunkBytes && !u.finished) {
      size -= size % FRAME_BYTES; // wait for more audio rather than send a partial frame
    }
    if (size <= 0) return null;
    const out = new Uint8Array(u.finished && size === u.pendingBytes ? roundUpToFrame(size) : size);
    out.fill(MULAW_SILENCE);
    let filled = 0;
    while (filled < size) {
      const head = u.pending[0]!;
      const take = Math.min(head.length, size - filled);
      out.set(head.subarray(0, take), filled);
      filled += take;
      if (take === head.length) u.pending.shift();
      else u.pending[0] = head.subarray(take);
    }
    u.pendingBytes -= size;
    return out;
  }

  private send(u: Utterance, chunk: Uint8Array, final: boolean): void {
    if (u.sentBytes === 0) {
      this.lastProgressAt = this.options.now();
      this.options.onFirstAudio?.(u.id);
    }
    this.options.sink.sendMedia(chunk);
    u.sentBytes += chunk.length;
    this.unconfirmedBytes += chunk.length;
    this.sendMark(u, final);
  }

  private sendMark(u: Utterance, final: boolean): void {
    const name = markName(this.generation, ++this.markSeq, final);
    this.marks.set(name, { utterance: u, offsetBytes: u.sentBytes, final });
    this.options.sink.sendMark(name);
  }

  private settle(u: Utterance, outcome: UtteranceOutcome, report = this.report(u, outcome)): void {
    if (u.outcome !== null) return;
    u.outcome = outcome;
    u.settle(outcome);
    const index = this.utterances.indexOf(u);
    if (index >= 0) this.utterances.splice(index, 1);
    this.finished.set(u.id, report);
    if (this.finished.size > 16) this.finished.delete(this.finished.keys().next().value!);
  }

  private readonly finished = new Map<number, HeardReport>();

  private find(id: number): Utterance | undefined {
    return this.utterances.find((u) => u.id === id);
  }

  private report(u: Utterance, outcome: HeardReport['outcome']): HeardReport {
    const known = this.finished.get(u.id);
    if (known) return known;
    // Marks confirm playback per chunk; between echoes Twilio keeps playing in real time.
    let playedBytes = u.playedBytes;
    if (u.outcome === null && u.sentBytes > u.playedBytes && u === this.utterances.find((x) => x.sentBytes > x.playedBytes)) {
      const sinceMs = Math.max(0, this.options.now() - this.lastProgressAt);
      playedBytes = Math.min(u.sentBytes, u.playedBytes + Math.round(sinceMs * BYTES_PER_MS));
    }
    if (outcome === 'played') playedBytes = u.sentBytes;
    const text = u.segments.map((s) => s.text).join(' ');
    return {
      utteranceId: u.id,
      text,
      heardText: heardText(u.segments, playedBytes),
      sentMs: u.sentBytes / BYTES_PER_MS,
      playedMs: playedBytes / BYTES_PER_MS,
      outcome,
    };
  }
}

/** Where a resumed utterance starts, in whole frames of its audio. */
function resumePoint(segments: readonly Segment[], heardBytes: number, backupBytes: number, restartBytes: number): number {
  const current = segments.find((s) => heardBytes >= s.startByte && heardBytes < s.endByte) ?? segments.findLast((s) => s.endByte <= heardBytes);
  let from = Math.max(0, heardBytes - backupBytes);
  if (current && heardBytes - current.startByte <= restartBytes) from = current.startByte;
  else if (current) from = Math.max(from, current.startByte);
  return from - (from % FRAME_BYTES);
}

/** The audio of `chunks` from byte `from` on. */
function sliceFrom(chunks: readonly Uint8Array[], from: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const c of chunks) {
    if (at + c.length > from) out.push(at >= from ? c : c.subarray(from - at));
    at += c.length;
  }
  return out;
}

function roundUpToFrame(bytes: number): number {
  return Math.ceil(bytes / FRAME_BYTES) * FRAME_BYTES;
}

/** Whole segments played, plus the words of the partly played one in proportion to its audio. */
export function heardText(segments: readonly Segment[], playedBytes: number): string {
  const parts: string[] = [];
  for (const s of segments) {
    if (playedBytes >= s.endByte) {
      parts.push(s.text);
      continue;
    }
    if (playedBytes > s.startByte) {
      const words = s.text.split(/\s+/).filter(Boolean);
      const fraction = (playedBytes - s.startByte) / (s.endByte - s.startByte);
      const count = Math.floor(words.length * fraction);
      if (count > 0) parts.push(words.slice(0, count).join(' '));
    }
    break;
  }
  return parts.join(' ');
}
