/**
 * The turn side of the Deepgram stream: assembles Deepgram's live results into one
 * `transcript-final` with `endOfTurn: true` per caller turn, combining both detectors (see
 * deepgram-stt.ts): our VAD's speech end sends `Finalize` and the turn closes on Deepgram's
 * answer (`from_finalize`) or after `finalizeTimeoutMs`; when our VAD missed the speech,
 * Deepgram's own `speech_final` / `UtteranceEnd` close it. Knows nothing of sockets: positions are
 * stream byte offsets, and the connection maps Deepgram's seconds onto them (`toIndex`).
 */
import type { Logger } from 'pino';
import { BYTES_PER_MS } from '../media/mulaw.js';
import type { SttEvent } from './stt.js';

/** The parts of Deepgram's live messages this adapter reads. */
export interface LiveMessage {
  type?: string;
  start?: number;
  duration?: number;
  is_final?: boolean;
  speech_final?: boolean;
  from_finalize?: boolean;
  timestamp?: number;
  channel?: { alternatives?: { transcript?: string; confidence?: number }[] };
}

export interface DeepgramTurnHooks {
  emit(event: SttEvent): void;
  /** Ask Deepgram to flush what it heard (when the socket is up; a reconnect re-sends it). */
  sendFinalize(): void;
  /** Audio before `index` is finalised: it never needs a replay. */
  finalisedBefore(index: number): void;
  /** Stream position of the next byte for Deepgram. */
  nextIndex(): number;
  /** A time in the current socket's audio (seconds) as a stream position. */
  toIndex(seconds: number): number;
  finalizeTimeoutMs: number;
  logger?: Logger | undefined;
}

/** Rounding slack when mapping Deepgram's seconds back to byte positions (1 ms). */
const INDEX_SLACK = BYTES_PER_MS;

export class DeepgramTurn {
  private segments: { text: string; confidence: number }[] = [];
  private interim = '';
  private lastPartial = '';
  private vadSpeaking = false;
  private speechEndedAt: number | null = null;
  /** A Finalize is outstanding for this turn (a new socket must get it again). */
  finalizePending = false;
  private finalizeTimer: NodeJS.Timeout | null = null;
  /** Deepgram said `speech_final` and has heard nothing since: it has nothing left to flush. */
  private deepgramEndpointed = false;
  /** Audio before this position belongs to a turn already answered; late results about it are dropped. */
  private cutIndex = 0;

  constructor(private readonly hooks: DeepgramTurnHooks) {}

  speechStarted(): void {
    this.vadSpeaking = true;
  }

  speechEnded(): void {
    this.vadSpeaking = false;
    if (this.speechEndedAt !== null) return; // already waiting for this turn's answer
    this.speechEndedAt = performance.now();
    if (this.deepgramEndpointed && this.interim === '' && this.segments.length > 0) {
      // Deepgram already finalised every word of this turn: nothing to flush, answer now.
      this.closeTurn(this.cutIndex, false);
      return;
    }
    this.finalizePending = true;
    this.hooks.sendFinalize();
    this.finalizeTimer = setTimeout(() => {
      this.finalizeTimer = null;
      this.hooks.logger?.warn({ timeoutMs: this.hooks.finalizeTimeoutMs }, 'deepgram did not answer Finalize; using what it heard');
      this.closeTurn(this.hooks.nextIndex(), true);
    }, this.hooks.finalizeTimeoutMs);
  }

  /** The caller is mid-turn (its silence must reach Deepgram, which needs it to endpoint). */
  get open(): boolean {
    return this.vadSpeaking || this.speechEndedAt !== null || this.segments.length > 0 || this.interim !== '';
  }

  /** A new socket re-transcribes everything after the last finalised segment. */
  replaying(): void {
    this.interim = '';
  }

  dispose(): void {
    if (this.finalizeTimer) clearTimeout(this.finalizeTimer);
    this.finalizeTimer = null;
  }

  onMessage(message: LiveMessage): void {
    switch (message.type) {
      case 'Results':
        this.onResults(message);
        break;
      case 'SpeechStarted':
        if (this.hooks.toIndex(message.timestamp ?? 0) + INDEX_SLACK < this.cutIndex) return; // replayed audio
        this.deepgramEndpointed = false;
        this.hooks.emit({ type: 'speech-start' });
        break;
      case 'UtteranceEnd':
        // Deepgram's word-gap detector: closes a turn our VAD did not track, or one we wait for.
        if (this.segments.length > 0 && this.interim === '' && (!this.vadSpeaking || this.speechEndedAt !== null)) {
          this.closeTurn(this.cutIndex, false);
        }
        break;
    }
  }

  private onResults(message: LiveMessage): void {
    const start = this.hooks.toIndex(message.start ?? 0);
    const end = this.hooks.toIndex((message.start ?? 0) + (message.duration ?? 0));
    if (start + INDEX_SLACK < this.cutIndex) return; // about audio of a turn already answered
    const best = message.channel?.alternatives?.[0];
    const text = (best?.transcript ?? '').trim();
    if (!message.is_final) {
      this.interim = text;
      if (text) this.deepgramEndpointed = false;
      this.emitPartial();
      return;
    }
    this.interim = '';
    if (text) this.segments.push({ text, confidence: best?.confidence ?? 0 });
    this.cut(end);
    if (message.from_finalize && this.finalizePending) {
      this.closeTurn(end, false);
    } else if (message.speech_final) {
      this.deepgramEndpointed = true;
      const waiting = this.speechEndedAt !== null;
      if (this.segments.length > 0 && (waiting || !this.vadSpeaking)) this.closeTurn(end, false);
      // While our VAD still hears the caller, the turn stays open: a pause is not the end, but the
      // finalised words are news (the session judges from them how long to wait).
      else this.emitPartial();
    } else if (text) {
      this.emitPartial();
    }
  }

  private closeTurn(cut: number, withInterim: boolean): void {
    const parts = this.segments.map((s) => s.text);
    if (withInterim && this.interim) parts.push(this.interim);
    const confidence = this.segments.length > 0 ? this.segments.reduce((sum, s) => sum + s.confidence, 0) / this.segments.length : 0;
    const sttMs = this.speechEndedAt === null ? 0 : Math.round(performance.now() - this.speechEndedAt);
    this.segments = [];
    this.interim = '';
    this.lastPartial = '';
    this.speechEndedAt = null;
    this.finalizePending = false;
    this.deepgramEndpointed = false;
    this.dispose();
    this.cut(cut);
    this.hooks.emit({ type: 'transcript-final', text: parts.join(' '), confidence, endOfTurn: true, sttMs });
  }

  private cut(index: number): void {
    this.cutIndex = Math.max(this.cutIndex, index);
    this.hooks.finalisedBefore(this.cutIndex);
  }

  private emitPartial(): void {
    const text = [...this.segments.map((s) => s.text), this.interim].filter(Boolean).join(' ');
    if (!text || text === this.lastPartial) return;
    this.lastPartial = text;
    this.hooks.emit({ type: 'transcript-partial', text });
  }
}
