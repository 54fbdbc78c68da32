/**
 * Per-turn latency accounting on a monotonic clock. The caller's turn is timed from their last word
 * (VAD speech end minus its trailing silence) through end-of-turn, transcript, first brain text and
 * first synthesized audio to the first audio frame on the wire (TTFA). Feeds the call record's turn
 * metrics and the Prometheus histograms.
 */
import type { Metrics } from '../observability/metrics.js';
import type { TurnMetrics } from '../store/call-record.js';

interface PendingTurn {
  /** The speech on the inbound media clock, ms (recordings mask and replay by it). */
  audio?: { startMs: number; endMs: number };
  /** Wall time the caller started speaking, ISO (for the record). */
  startedAtIso: string | null;
  lastWordAt: number;
  lastWordAtIso: string;
  endOfTurnAt: number;
  transcriptAt: number | null;
}

export interface TimedCallerTurn {
  metrics: TurnMetrics;
  audio?: { startMs: number; endMs: number };
  startedAt: string;
  endedAt: string;
}

export class TurnTiming {
  private speechStartIso: string | null = null;
  private speechStartAudioMs = 0;
  private pending: PendingTurn | null = null;
  /** The reply whose first audio frame closes the TTFA measurement. */
  private awaitingFirstAudio: { metrics: TurnMetrics; lastWordAt: number } | null = null;

  constructor(
    private readonly now: () => number,
    private readonly metrics: Metrics,
    private readonly engines: { stt: string; brain: string; tts: string },
    /** Told whenever a turn's metrics gained a figure (live views). */
    private readonly onUpdate: (metrics: TurnMetrics) => void = () => undefined,
  ) {}

  /** `audioMs`: where the speech starts on the inbound media clock. */
  speechStarted(audioMs: number): void {
    this.speechStartIso = new Date().toISOString();
    this.speechStartAudioMs = audioMs;
  }

  /** The VAD ended the caller's turn; `trailingMs` of silence already passed since the last word. */
  speechEnded(trailingMs: number, audioEndMs: number): void {
    const at = this.now();
    this.pending = {
      audio: { startMs: Math.round(this.speechStartAudioMs), endMs: Math.round(audioEndMs) },
      startedAtIso: this.speechStartIso,
      lastWordAt: at - trailingMs,
      lastWordAtIso: new Date(Date.now() - trailingMs).toISOString(),
      endOfTurnAt: at,
      transcriptAt: null,
    };
  }

  /** A final transcript arrived. If the recogniser ended the turn before our VAD did, time from it. */
  transcript(): void {
    const at = this.now();
    if (this.pending) this.pending.transcriptAt = at;
    else this.pending = { startedAtIso: this.speechStartIso, lastWordAt: at, lastWordAtIso: new Date().toISOString(), endOfTurnAt: at, transcriptAt: at };
  }

  /** A keypad entry: no endpointing or recognition, its TTFA runs from the key. */
  keyEntry(): void {
    const at = this.now();
    const iso = new Date().toISOString();
    this.pending = { startedAtIso: iso, lastWordAt: at, lastWordAtIso: iso, endOfTurnAt: at, transcriptAt: at };
  }

  get hasPendingTurn(): boolean {
    return this.pending !== null;
  }

  /** A reply to the caller's turn starts: close endpoint/STT timings and start the reply timers. */
  beginReply(): { turn: TimedCallerTurn; lastWordAt: number | null; onFirstText(): void; onFirstAudioChunk(): void } {
    const pending = this.pending;
    this.pending = null;
    this.speechStartIso = null;
    const metrics: TurnMetrics = { ttfaMs: null, endpointMs: null, sttMs: null, llmFirstTokenMs: null, ttsFirstByteMs: null };
    const nowIso = new Date().toISOString();
    if (pending) {
      metrics.endpointMs = Math.round(pending.endOfTurnAt - pending.lastWordAt);
      this.metrics.observeStage('endpoint', 'vad', metrics.endpointMs);
      if (pending.transcriptAt !== null) {
        metrics.sttMs = Math.round(pending.transcriptAt - pending.endOfTurnAt);
        this.metrics.observeStage('stt', this.engines.stt, metrics.sttMs);
      }
      this.awaitingFirstAudio = { metrics, lastWordAt: pending.lastWordAt };
    } else {
      this.awaitingFirstAudio = null;
    }
    let firstTextAt: number | null = null;
    return {
      turn: {
        metrics,
        startedAt: pending?.startedAtIso ?? pending?.lastWordAtIso ?? nowIso,
        endedAt: pending?.lastWordAtIso ?? nowIso,
        ...(pending?.audio ? { audio: pending.audio } : {}),
      },
      /** When the caller stopped speaking (or pressed the key), on this clock: they wait from here. */
      lastWordAt: pending?.lastWordAt ?? null,
      onFirstText: () => {
        firstTextAt = this.now();
        if (pending?.transcriptAt != null) {
          metrics.llmFirstTokenMs = Math.round(firstTextAt - pending.transcriptAt);
          this.metrics.observeStage('brain_first_token', this.engines.brain, metrics.llmFirstTokenMs);
        }
      },
      onFirstAudioChunk: () => {
        if (pending && firstTextAt !== null) {
          metrics.ttsFirstByteMs = Math.round(this.now() - firstTextAt);
          this.metrics.observeStage('tts_first_byte', this.engines.tts, metrics.ttsFirstByteMs);
          this.onUpdate(metrics);
        }
      },
    };
  }

  /** A reply that is not an answer to a caller turn (greeting, reprompt) starts. */
  beginUnpromptedReply(): void {
    this.awaitingFirstAudio = null;
  }

  /** The first audio frame of the current reply went on the wire. */
  firstAudioSent(): void {
    const awaiting = this.awaitingFirstAudio;
    this.awaitingFirstAudio = null;
    if (!awaiting) return;
    awaiting.metrics.ttfaMs = Math.round(this.now() - awaiting.lastWordAt);
    this.metrics.ttfa.observe(awaiting.metrics.ttfaMs / 1000);
    this.onUpdate(awaiting.metrics);
  }
}
