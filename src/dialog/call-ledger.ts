/**
 * What happened on a call, kept in one place: the call record, provider usage and cost, fallbacks,
 * and the live events a page may watch. The session decides; the ledger writes it down (and counts
 * it in Prometheus).
 */
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-schema.js';
import { callCost, emptyUsage, type CallUsage } from '../observability/cost.js';
import type { Metrics } from '../observability/metrics.js';
import type { FallbackStage } from '../observability/fallback.js';
import type { AgentTurn, CallRecord, CallerTurn, TurnMetrics } from '../store/call-record.js';
import type { BrainInput } from './brain.js';
import type { CallSessionEvent } from './call-events.js';
import type { TimedCallerTurn } from './turn-timing.js';


export interface LedgerOptions {
  callSid: string;
  streamSid: string;
  from: string;
  to: string;
  engines: { stt: string; llm: string; tts: string; vad: string };
  prices: AgentConfig['prices'];
  metrics: Metrics;
  logger: Logger;
  onEvent?: ((event: CallSessionEvent) => void) | undefined;
  /** Wall clock for the record's timestamps, ms since the epoch. */
  wallNow?: () => number;
}

const CLOUD_PROVIDERS = ['deepgram', 'elevenlabs', 'claude', 'anthropic'];
/** `deepgram:nova-3` → `deepgram`. */
export const providerOf = (engineName: string) => engineName.split(':')[0] ?? engineName;
export const isCloudEngine = (engineName: string) => CLOUD_PROVIDERS.includes(providerOf(engineName));

export class CallLedger {
  readonly record: CallRecord;
  /** Stages currently running on a paid provider (false once they fell back). */
  private readonly paid: { stt: boolean; tts: boolean };
  private readonly startedAtMs: number;
  private readonly wallNow: () => number;

  constructor(private readonly options: LedgerOptions) {
    const { engines } = options;
    this.wallNow = options.wallNow ?? (() => Date.now());
    this.startedAtMs = this.wallNow();
    this.record = {
      callSid: options.callSid,
      streamSid: options.streamSid,
      from: options.from,
      to: options.to,
      startedAt: this.iso(),
      endedAt: null,
      endReason: null,
      engines,
      turns: [],
      toolCalls: [],
      slots: {},
      bargeIns: 0,
      streamEvents: [],
      protocolErrors: {},
      fallbacks: [],
      usage: emptyUsage(),
      cost: null,
    };
    this.paid = { stt: isCloudEngine(engines.stt), tts: isCloudEngine(engines.tts) };
    options.metrics.callsActive.inc();
    options.metrics.callsTotal.inc();
  }

  /** Caller audio streamed to the recogniser. */
  sttAudio(bytes: number): void {
    if (this.paid.stt) this.record.usage.sttSeconds += bytes / 8000;
  }

  /** Text handed to the voice. */
  spoken(piece: string): void {
    if (this.paid.tts) this.record.usage.ttsCharacters += piece.length;
  }

  streamEvent(entry: CallRecord['streamEvents'][number], max: number): void {
    if (this.record.streamEvents.length < max) this.record.streamEvents.push(entry);
  }

  protocolError(code: string): void {
    this.record.protocolErrors[code] = (this.record.protocolErrors[code] ?? 0) + 1;
  }

  /** Records the caller's turn (and tells live views); returns its text. */
  callerTurn(input: BrainInput, timed: TimedCallerTurn): string {
    const text = input.type === 'speech' ? input.text : input.type === 'dtmf' ? input.digits : '';
    const turn: CallerTurn = {
      role: 'caller',
      text,
      startedAt: timed.startedAt,
      endedAt: timed.endedAt,
      input: input.type === 'speech' ? 'speech' : input.type === 'dtmf' ? 'dtmf' : 'no-match',
      metrics: timed.metrics,
    };
    if (input.type === 'speech') turn.confidence = input.confidence;
    if (input.type === 'speech' && input.recognition) turn.recognition = input.recognition;
    if (timed.audio) turn.audio = timed.audio;
    this.record.turns.push(turn);
    this.emit({ type: 'caller-turn', turnId: this.record.turns.length - 1, text, input: turn.input });
    this.emitMetrics(timed.metrics);
    return text;
  }

  /** An agent reply starts: its turn goes into the record now, filled in as it plays. */
  agentTurn(text = ''): AgentTurn {
    const turn: AgentTurn = { role: 'agent', text, startedAt: this.iso(), interrupted: false, heardText: '' };
    this.record.turns.push(turn);
    return turn;
  }

  /**
   * The reply ended: played through (the caller heard all of it) or not (cleared, aborted, failed).
   * A reply that never reached the voice (abandoned before its first words, or a turn with no text)
   * leaves no agent turn: the caller heard nothing, and an empty turn would read as if they had.
   */
  agentTurnEnded(turn: AgentTurn, text: string, played: boolean): void {
    turn.text = text;
    if (!text && !turn.heardText) {
      const index = this.record.turns.indexOf(turn);
      if (index >= 0) this.record.turns.splice(index, 1);
      return;
    }
    if (!played) return;
    turn.heardText = text;
    if (text) this.emit({ type: 'agent-turn', text });
  }

  /** The caller interrupted the reply; only `heardText` reached them. */
  agentInterrupted(turn: AgentTurn | null, report: { text: string; heardText: string } | undefined): void {
    this.record.bargeIns++;
    this.options.metrics.bargeIns.inc();
    if (!turn) return;
    turn.interrupted = true;
    turn.text = report?.text || turn.text;
    turn.heardText = report?.heardText ?? '';
    this.emit({ type: 'agent-interrupted', text: turn.text, heardText: turn.heardText });
  }

  toolCall(call: CallRecord['toolCalls'][number]): void {
    this.record.toolCalls.push(call);
    this.options.metrics.toolCalls.inc({ tool: call.name, ok: String(call.ok) });
  }

  /** Slot values the caller confirmed. */
  slots(values: Record<string, string>): void {
    Object.assign(this.record.slots, values);
  }

  /** A reply stopped by caller speech that was no words or a backchannel played on: not an interruption. */
  replyResumed(turn: AgentTurn, cause: string): void {
    turn.resumes = (turn.resumes ?? 0) + 1;
    this.record.resumedReplies = (this.record.resumedReplies ?? 0) + 1;
    this.options.logger.debug({ cause }, 'reply resumed');
  }

  /** A stage switched to its backup: counted, logged and kept in the call record. */
  fallback(stage: FallbackStage, from: string, to: string, reason: string): void {
    this.record.fallbacks.push({ stage, from, to, reason, at: this.iso() });
    if (stage === 'stt') this.paid.stt = false;
    this.options.metrics.fallbacks.inc({ stage, from, to });
    this.options.logger.warn({ stage, from, to, reason }, 'provider failed; continuing on the backup engine');
  }

  /** The call is over: close the record, price it, count it. */
  settle(reason: string, llmUsage: Partial<CallUsage> = {}): void {
    const record = this.record;
    record.endedAt = this.iso();
    record.endReason = reason;
    Object.assign(record.usage, llmUsage);
    const minutes = (this.wallNow() - this.startedAtMs) / 60_000;
    const cost = callCost(record.usage, this.options.prices, minutes);
    record.cost = cost;
    const m = this.options.metrics;
    m.callMinutes.inc(minutes);
    const { engines } = this.options;
    if (cost.stt > 0) m.callCost.inc({ provider: providerOf(engines.stt) }, cost.stt);
    if (cost.llm > 0) m.callCost.inc({ provider: providerOf(engines.llm) }, cost.llm);
    if (cost.tts > 0) m.callCost.inc({ provider: providerOf(engines.tts) }, cost.tts);
    m.callsActive.dec();
    m.callsEnded.inc({ reason });
    this.emit({ type: 'call-ended', reason });
  }

  private iso(): string {
    return new Date(this.wallNow()).toISOString();
  }

  emit(event: CallSessionEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch (error) {
      // An observer is a bystander: its bug must not change the call.
      this.options.logger.warn({ err: error, event: event.type }, 'call event observer failed');
    }
  }

  /** Timings of one caller turn, identified by its index in the record's turns. */
  emitMetrics(metrics: TurnMetrics): void {
    if (!this.options.onEvent) return;
    const turnId = this.record.turns.findIndex((t) => t.role === 'caller' && t.metrics === metrics);
    if (turnId >= 0) this.emit({ type: 'turn-metrics', turnId, metrics: { ...metrics } });
  }
}
