/**
 * One call: feeds events into the pure turn machine and executes the effects it returns. The
 * caller's side (audio intake, recogniser, pause judgement) is `CallerEar`; the agent's side
 * (playout, the reply in flight, hold/resume/interrupt) is `AgentVoice`; the record is written only
 * through `CallLedger`; all time comes from the injected `Scheduler`. Data flows one way:
 * socket → decode → VAD/STT → turn machine → brain → TTS → playout → socket.
 */
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-schema.js';
import type { Metrics } from '../observability/metrics.js';
import type { CallRecord } from '../store/call-record.js';
import { AgentVoice } from './agent-voice.js';
import { CallerEar } from './caller-ear.js';
import type { BrainEvent, BrainInput, BrainSession, ConversationTurn } from './brain.js';
import type { CallEngines, CallTransport } from './call-engines.js';
import type { CallSessionEvent } from './call-events.js';
import { CallLedger } from './call-ledger.js';
import { KeypadCollector } from './keypad.js';
import { fillerForTurn } from './reply-runner.js';
import { initialTurnState, transition, type TurnEffect, type TurnEvent, type TurnState } from './turn-machine.js';
import { TurnTiming } from './turn-timing.js';
import { realScheduler, TimerSet, type Scheduler } from '../util/scheduler.js';

/** Pause after the last key that ends a digit entry, ms. */
const KEYPAD_PAUSE_MS = 2500;

export interface CallSessionOptions {
  callSid: string;
  streamSid: string;
  from: string;
  to: string;
  agent: AgentConfig;
  engines: CallEngines;
  transport: CallTransport;
  logger: Logger;
  metrics: Metrics;
  /** Clocks and timers (default: the real ones); a test may drive the session on a simulated clock. */
  scheduler?: Scheduler;
  onEnd?: (record: CallRecord) => void;
  /** Live observer (the browser phone's transcript view); must not throw, and never affects the call. */
  onEvent?: (event: CallSessionEvent) => void;
  /**
   * Warm transfer: called instead of closing the socket once the hold line has played. Resolves
   * true when it took the call over (the stream will end from Twilio's side); false (or a failure)
   * closes the socket as a plain transfer would.
   */
  onTransfer?: (snapshot: { history: ConversationTurn[]; brainState: unknown; record: CallRecord }) => Promise<boolean>;
  /**
   * A transfer the brain asked for will not happen after all: the caller talked over the hold line
   * (and the conversation goes on), or the call ended first (`reason`: why it ended). The pending
   * attempt must be closed. Resolves when it is; a failure is logged.
   */
  onTransferAbandoned?: (reason: string | null) => Promise<unknown>;
  /** The call is back from a transfer nobody took: the conversation so far and the brain's state. */
  resume?: { history: ConversationTurn[]; brainState: unknown };
}

export class CallSession {
  private readonly ledger: CallLedger;
  private state: TurnState = initialTurnState;
  private readonly options: CallSessionOptions;
  private readonly scheduler: Scheduler;
  private readonly timers: TimerSet<'inactivity' | 'resume-window' | 'exit-cap' | 'max-duration'>;
  private readonly callAbort = new AbortController();
  private readonly voice: AgentVoice;
  private readonly brain: BrainSession;
  private readonly history: ConversationTurn[] = [];
  private readonly ear: CallerEar;
  private readonly timing: TurnTiming;
  private ended = false;
  private readonly keypad: KeypadCollector;

  constructor(options: CallSessionOptions) {
    this.options = options;
    const scheduler = (this.scheduler = options.scheduler ?? realScheduler);
    this.timers = new TimerSet(scheduler);
    const { engines, agent, transport, metrics } = options;
    this.keypad = new KeypadCollector(
      (digits) => this.dispatch({ type: 'dtmf', digits, agentAudioPending: this.voice.isPlaying }),
      () => this.timers.disarm('inactivity'),
      KEYPAD_PAUSE_MS,
      scheduler,
    );
    this.ledger = new CallLedger({
      ...options,
      engines: { stt: engines.stt.name, llm: engines.brain.name, tts: engines.tts.name, vad: engines.vad.name },
      prices: agent.prices,
      wallNow: () => scheduler.wallNow(),
    });
    this.timing = new TurnTiming(
      scheduler,
      metrics,
      { stt: engines.stt.name, brain: engines.brain.name, tts: engines.tts.name },
      (turnMetrics) => this.ledger.emitMetrics(turnMetrics),
    );
    this.ear = new CallerEar({
      ...options,
      ledger: this.ledger,
      timing: this.timing,
      scheduler,
      signal: this.callAbort.signal,
      agentAudible: () => this.voice.isPlaying,
      heldOnYesNoQuestion: () => this.state.suspended && this.voice.heldOnYesNoQuestion(),
      awaitingTranscript: () => this.timing.hasPendingTurn && this.state.phase === 'thinking',
      dispatch: (event) => this.dispatch(event),
    });
    this.voice = new AgentVoice({
      agent,
      transport,
      tts: engines.tts,
      ledger: this.ledger,
      logger: options.logger,
      metrics,
      scheduler,
      callSignal: this.callAbort.signal,
      onFirstAudio: () => this.timing.firstAudioSent(),
    });
    engines.onFallback?.((event) => this.ledger.fallback(event.stage, event.from, event.to, event.reason));
    this.brain = engines.brain.createSession({
      callSid: options.callSid,
      from: options.from,
      to: options.to,
      ...(options.resume ? { resume: { brainState: options.resume.brainState, reason: 'transfer-failed' as const } } : {}),
    });
    if (options.resume) this.history.push(...options.resume.history);
    this.timers.arm('max-duration', agent.timeouts.maxDurationMs, () => this.dispatch({ type: 'max-duration' }));
  }

  get record(): CallRecord {
    return this.ledger.record;
  }

  get phase(): TurnState['phase'] {
    return this.state.phase;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  start(): void {
    this.ledger.emit({ type: 'call-started', callSid: this.record.callSid, streamSid: this.record.streamSid });
    this.dispatch({ type: 'start' });
  }

  /** One inbound frame (gaps already filled), μ-law 8 kHz. */
  onAudio(mulaw: Uint8Array): void {
    if (this.ended) return;
    this.options.metrics.framesIn.inc();
    this.ear.push(mulaw);
  }

  onDtmf(key: string): void {
    if (this.ended) return;
    // A key press interrupts the agent at once, even when the entry is not complete yet.
    if (this.voice.isPlaying) {
      this.dispatch({ type: 'barge-in-eligible', agentAudioPending: true, bargeInEnabled: true });
    }
    this.keypad.press(key);
  }

  onMark(name: string): void {
    this.voice.onMark(name);
  }

  noteProtocolError(code: string): void {
    this.ledger.protocolError(code);
  }

  /** Twilio reported on the stream (status callback); at most `max` are kept. */
  noteStreamEvent(entry: CallRecord['streamEvents'][number], max: number): void {
    this.ledger.streamEvent(entry, max);
  }

  /** Ops ended the call from outside (any worker): the goodbye plays, then the call ends with `reason`. */
  endFromOutside(reason: string): void {
    this.dispatch({ type: 'remote-exit', reason });
  }

  /** Ops asked to hand the caller to a person (no Twilio REST to do it): the brain says what happens next. */
  handOffFromOutside(): void {
    this.dispatch({ type: 'remote-handoff' });
  }

  /** `stop`, socket close or shutdown. Idempotent. */
  end(reason: string): void {
    this.dispatch({ type: 'stop', reason });
  }

  private dispatch(event: TurnEvent): void {
    if (this.ended) return;
    const hadTransfer = this.state.pendingExit?.kind === 'transfer';
    const [next, effects] = transition(this.state, event);
    this.state = next;
    if (hadTransfer) this.noteAbandonedTransfer(next, effects);
    for (const effect of effects) this.execute(effect);
  }

  private noteAbandonedTransfer(next: TurnState, effects: readonly TurnEffect[]): void {
    const stillPending = next.pendingExit?.kind === 'transfer' && next.phase !== 'ended';
    if (stillPending || effects.some((e) => e.type === 'transfer') || !this.options.onTransferAbandoned) return;
    const ended = effects.find((e): e is Extract<TurnEffect, { type: 'finalize' }> => e.type === 'finalize');
    this.options.onTransferAbandoned(ended ? ended.reason : null).catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not close an abandoned transfer attempt'));
  }

  private execute(effect: TurnEffect): void {
    switch (effect.type) {
      case 'run-brain':
        this.startReply(effect.input);
        break;
      case 'barge-in':
        this.bargeIn();
        break;
      case 'suspend-reply':
        this.observeClear();
        this.voice.hold();
        break;
      case 'resume-reply':
        this.voice.resume(effect.cause);
        break;
      case 'arm-resume-window':
        this.timers.arm('resume-window', this.options.agent.turn.falseInterruptionWindowMs, () => this.dispatch({ type: 'resume-window' }));
        break;
      case 'disarm-resume-window':
        this.timers.disarm('resume-window');
        break;
      case 'end-turn-after':
        this.ear.endTurnAfter(effect.completeness);
        break;
      case 'stt-speech-start':
        this.ear.speechStarted();
        break;
      case 'stt-speech-end':
        this.ear.speechEnded();
        break;
      case 'arm-inactivity': {
        const { inactivityMs, inactivityReprompts } = this.options.agent.timeouts;
        this.timers.arm('inactivity', inactivityMs, () => this.dispatch({ type: 'inactivity', maxReprompts: inactivityReprompts }));
        break;
      }
      case 'disarm-inactivity':
        this.timers.disarm('inactivity');
        break;
      case 'say-goodbye':
        this.sayClosingLine(this.options.agent.prompts[effect.prompt]);
        break;
      case 'hang-up':
        this.options.transport.close();
        break;
      case 'transfer':
        this.handOver();
        break;
      case 'finalize':
        this.finalize(effect.reason);
        break;
    }
  }

  private startReply(input: BrainInput): void {
    let hooks: { onFirstText(): void; onFirstAudioChunk(): void } | null = null;
    let turnEndedAtMs: number | undefined;
    if (input.type === 'speech' || input.type === 'dtmf' || input.type === 'no-match') {
      if (input.type === 'dtmf') this.timing.keyEntry();
      const reply = this.timing.beginReply();
      hooks = reply;
      turnEndedAtMs = reply.lastWordAt ?? undefined;
      const text = this.ledger.callerTurn(input, reply.turn);
      if (text) this.history.push({ role: 'caller', text });
    } else {
      this.timing.beginUnpromptedReply();
    }
    const history = [...this.history];
    const filler = fillerForTurn({
      turnEndedAtMs,
      nowMs: this.scheduler.now(),
      afterMs: this.options.agent.timeouts.fillerAfterMs,
      fillers: this.options.agent.offline.fillers,
      index: this.record.turns.length,
      tts: this.options.engines.fillerTts,
      onError: (error) => this.options.logger.warn({ err: error }, 'filler voice failed'),
    });
    void this.voice
      .reply((signal) => this.brain.turn(input, { signal, history, ...(turnEndedAtMs !== undefined ? { turnEndedAtMs } : {}) }), {
        onFirstText: () => {
          hooks?.onFirstText();
          this.dispatch({ type: 'reply-text' });
        },
        onFirstAudioChunk: () => hooks?.onFirstAudioChunk(),
        onBrainEvent: (event) => this.onBrainEvent(event),
        onAudioComplete: (utteranceId) => this.capExitWait(utteranceId),
      }, filler)
      .then((result) => {
        if (this.ended) return;
        if (result.outcome === 'failed') {
          this.options.metrics.stageErrors.inc({ stage: 'brain', provider: this.options.engines.brain.name });
          this.options.logger.error({ err: result.error }, 'agent reply failed');
          this.dispatch({ type: 'brain-failed' });
        } else if (result.outcome === 'played') {
          if (result.text) this.history.push({ role: 'agent', text: result.text });
          this.dispatch({ type: 'reply-done', outcome: 'played', silent: !result.text.trim() });
        }
      });
  }

  /** Hang up after the goodbye has played, but never wait forever for a mark that may not come. */
  private capExitWait(utteranceId: number): void {
    if (!this.state.pendingExit) return;
    const capMs = this.voice.unplayedMs(utteranceId) + this.options.agent.timeouts.hangupMarkTimeoutMs;
    this.timers.arm('exit-cap', capMs, () => {
      this.options.logger.warn({ capMs }, 'final mark not echoed in time; ending the call anyway');
      this.dispatch({ type: 'reply-done', outcome: 'played' });
    });
  }

  private onBrainEvent(event: Exclude<BrainEvent, { type: 'text' }>): void {
    switch (event.type) {
      case 'tool-call':
        this.ledger.toolCall(event.call);
        break;
      case 'slots':
        this.ledger.slots(event.slots);
        break;
      case 'listen':
        this.ear.listen(event.hints, event.intent);
        this.keypad.mode = event.keypad ?? 'single';
        break;
      case 'end-call':
        this.dispatch({ type: 'brain-exit', kind: 'hang-up', reason: event.reason });
        break;
      case 'transfer':
        this.dispatch({ type: 'brain-exit', kind: 'transfer', reason: event.reason });
        break;
    }
  }

  /** Onset → clear at Twilio, for a caller who stopped the agent (held or interrupted). */
  private observeClear(): void {
    const onset = this.ear.speechOnsetAt;
    if (onset !== null) this.options.metrics.bargeInLatency.observe(Math.max(0, this.scheduler.now() - onset) / 1000);
  }

  private bargeIn(): void {
    const { heardText, wasHeld, playedMs } = this.voice.interrupt();
    // A held reply was cleared at Twilio when it was held: that was the interruption's latency.
    if (!wasHeld) this.observeClear();
    if (heardText !== null) {
      if (heardText) this.history.push({ role: 'agent', text: heardText });
      this.brain.interrupted?.(heardText);
    }
    this.options.logger.info({ heardText, playedMs }, 'barge-in: agent audio cleared');
  }

  private sayClosingLine(text: string): void {
    const cap = this.scheduler.after(this.options.agent.timeouts.hangupMarkTimeoutMs + 2000, () => this.dispatch({ type: 'closing-done' }));
    this.voice
      .closingLine(text)
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'closing line failed'))
      .finally(() => {
        cap.cancel();
        this.dispatch({ type: 'closing-done' });
      });
  }

  /** The transfer line has played: the warm transfer takes over, or the socket closes (cold / none). */
  private handOver(): void {
    const onTransfer = this.options.onTransfer;
    if (!onTransfer) return this.options.transport.close();
    const snapshot = { history: [...this.history], brainState: this.brain.snapshot?.() ?? null, record: this.record };
    onTransfer(snapshot).then(
      (handled) => {
        if (!handled) this.options.transport.close();
      },
      (error: unknown) => {
        this.options.logger.error({ err: error }, 'warm transfer failed; ending the stream');
        this.options.transport.close();
      },
    );
  }

  private finalize(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.voice.abort();
    this.callAbort.abort(new Error(`call ended: ${reason}`));
    this.timers.disarmAll();
    this.keypad.close();
    this.voice.close();
    this.ear.close();
    this.options.engines.dispose?.();
    this.ledger.settle(reason, this.options.engines.llmUsage?.());
    this.options.onEnd?.(this.record);
  }
}
