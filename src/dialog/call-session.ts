/**
 * One call: owns the per-call engines, timers and AbortControllers, feeds events into the pure turn
 * machine and executes its effects. Data flows one way:
 * socket → decode → VAD/STT → turn machine → brain → TTS → playout → socket.
 */
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-schema.js';
import { Playout } from '../media/playout.js';
import type { SegmenterEvent } from '../media/vad/speech-segmenter.js';
import type { Metrics } from '../observability/metrics.js';
import type { SttEvent, SttStream } from '../speech/stt.js';
import type { AgentTurn, CallRecord } from '../store/call-record.js';
import { AudioIntake } from './audio-intake.js';
import type { BrainEvent, BrainInput, BrainSession, ConversationTurn } from './brain.js';
import type { CallEngines, CallTransport } from './call-engines.js';
import type { CallSessionEvent } from './call-events.js';
import { CallLedger } from './call-ledger.js';
import { KeypadCollector } from './keypad.js';
import { fillerForTurn, fixedText, runReply } from './reply-runner.js';
import { initialTurnState, speakingPhase, transition, type TurnEffect, type TurnEvent, type TurnState } from './turn-machine.js';
import { TurnTiming } from './turn-timing.js';

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
  /** Monotonic clock, ms. */
  now?: () => number;
  onEnd?: (record: CallRecord) => void;
  /** Live observer (the browser phone's transcript view); must not throw, and never affects the call. */
  onEvent?: (event: CallSessionEvent) => void;
  /**
   * Warm transfer: called instead of closing the socket once the hold line has played. Resolves
   * true when it took the call over (the stream will end from Twilio's side); false (or a failure)
   * closes the socket as a plain transfer would.
   */
  onTransfer?: (snapshot: { history: ConversationTurn[]; brainState: unknown; record: CallRecord }) => Promise<boolean>;
  /** The call is back from a transfer nobody took: the conversation so far and the brain's state. */
  resume?: { history: ConversationTurn[]; brainState: unknown };
}

export class CallSession {
  private readonly ledger: CallLedger;
  private state: TurnState = initialTurnState;
  private readonly options: CallSessionOptions;
  private readonly now: () => number;
  private readonly callAbort = new AbortController();
  private readonly playout: Playout;
  private readonly stt: SttStream;
  private readonly brain: BrainSession;
  private readonly history: ConversationTurn[] = [];
  private readonly intake: AudioIntake;
  private turnAbort: AbortController | null = null;
  private currentAgentTurn: { record: AgentTurn; utteranceId: number | null } | null = null;
  private readonly timing: TurnTiming;
  private speechOnsetAt: number | null = null;
  private inactivityTimer: NodeJS.Timeout | null = null;
  private exitCapTimer: NodeJS.Timeout | null = null;
  private readonly maxDurationTimer: NodeJS.Timeout;
  private ended = false;
  private readonly keypad = new KeypadCollector(
    (digits) => this.dispatch({ type: 'dtmf', digits, agentAudioPending: this.playout.isPlaying }),
    () => this.disarmInactivity(),
    KEYPAD_PAUSE_MS,
  );

  constructor(options: CallSessionOptions) {
    this.options = options;
    this.now = options.now ?? (() => performance.now());
    const { engines, agent, transport, metrics } = options;
    this.ledger = new CallLedger({
      callSid: options.callSid,
      streamSid: options.streamSid,
      from: options.from,
      to: options.to,
      engines: { stt: engines.stt.name, llm: engines.brain.name, tts: engines.tts.name, vad: engines.vad.name },
      prices: agent.prices,
      metrics,
      logger: options.logger,
      onEvent: options.onEvent,
    });
    this.playout = new Playout({
      sink: {
        sendMedia: (audio) => {
          metrics.framesOut.inc();
          transport.sendMedia(audio);
        },
        sendMark: (name) => transport.sendMark(name),
        sendClear: () => transport.sendClear(),
      },
      maxLeadMs: agent.playout.maxLeadMs,
      chunkMs: agent.playout.chunkMs,
      now: this.now,
      onFirstAudio: () => this.timing.firstAudioSent(),
    });
    this.stt = engines.stt.open({
      signal: this.callAbort.signal,
      hints: {},
      preRollMs: agent.turn.preRollMs,
      onEvent: (event) => this.onSttEvent(event),
    });
    this.intake = new AudioIntake(engines.vad.createStream(), { ...agent.turn, minBargeInMs: agent.bargeIn.minSpeechMs }, {
      onFrame: (mulaw) => {
        this.stt.write(mulaw);
        this.ledger.sttAudio(mulaw.length);
      },
      onEvent: (event) => this.onSegmenterEvent(event),
      onError: (error) => this.options.logger.error({ err: error }, 'vad failed on a frame'),
    });
    engines.onFallback?.((event) => this.ledger.fallback(event.stage, event.from, event.to, event.reason));
    this.brain = engines.brain.createSession({
      callSid: options.callSid,
      from: options.from,
      to: options.to,
      ...(options.resume ? { resume: { brainState: options.resume.brainState, reason: 'transfer-failed' as const } } : {}),
    });
    if (options.resume) this.history.push(...options.resume.history);
    this.timing = new TurnTiming(
      this.now,
      metrics,
      { stt: engines.stt.name, brain: engines.brain.name, tts: engines.tts.name },
      (turnMetrics) => this.ledger.emitMetrics(turnMetrics),
    );
    this.maxDurationTimer = setTimeout(() => this.dispatch({ type: 'max-duration' }), agent.timeouts.maxDurationMs);
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
    this.intake.push(mulaw);
  }

  onDtmf(key: string): void {
    if (this.ended) return;
    // A key press interrupts the agent at once, even when the entry is not complete yet.
    if (this.playout.isPlaying) {
      this.dispatch({ type: 'barge-in-eligible', agentAudioPending: true, bargeInEnabled: true });
    }
    this.keypad.press(key);
  }

  onMark(name: string): void {
    this.playout.onMark(name);
  }

  noteProtocolError(code: string): void {
    this.ledger.protocolError(code);
  }

  /** Ops ended the call from outside (any worker): the goodbye plays, then the call ends with `reason`. */
  endFromOutside(reason: string): void {
    this.dispatch({ type: 'remote-exit', reason });
  }

  /** `stop`, socket close or shutdown. Idempotent. */
  end(reason: string): void {
    this.dispatch({ type: 'stop', reason });
  }

  private onSegmenterEvent(event: SegmenterEvent): void {
    const agentAudioPending = this.playout.isPlaying;
    switch (event.type) {
      case 'speech-start':
        this.speechOnsetAt = this.now() - event.leadMs;
        this.timing.speechStarted(Math.max(0, this.intake.audioMs - event.leadMs));
        this.dispatch({ type: 'speech-start', agentAudioPending });
        break;
      case 'barge-in-eligible':
        this.dispatch({ type: 'barge-in-eligible', agentAudioPending, bargeInEnabled: this.options.agent.bargeIn.enabled });
        break;
      case 'speech-pause':
        this.stt.speechPaused?.();
        break;
      case 'speech-end':
        this.timing.speechEnded(event.trailingMs, this.intake.audioMs - event.trailingMs);
        this.dispatch({ type: 'speech-end' });
        break;
    }
  }

  private onSttEvent(event: SttEvent): void {
    if (this.ended) return;
    if (event.type === 'transcript-final' && event.endOfTurn) {
      this.timing.transcript();
      this.dispatch({ type: 'transcript', text: event.text, confidence: event.confidence, ...(event.recognition ? { recognition: event.recognition } : {}) });
    } else if (event.type === 'error') {
      this.options.metrics.stageErrors.inc({ stage: 'stt', provider: this.options.engines.stt.name });
      this.options.logger.warn({ err: event.error, fatal: event.fatal }, 'speech recognition error');
      if (this.timing.hasPendingTurn && this.state.phase === 'thinking') {
        this.dispatch({ type: 'transcript', text: '', confidence: 0 });
      }
    }
  }

  private dispatch(event: TurnEvent): void {
    if (this.ended) return;
    const [next, effects] = transition(this.state, event);
    this.state = next;
    for (const effect of effects) this.execute(effect);
  }

  private execute(effect: TurnEffect): void {
    switch (effect.type) {
      case 'run-brain':
        this.startReply(effect.input);
        break;
      case 'barge-in':
        this.bargeIn();
        break;
      case 'stt-speech-start':
        this.stt.speechStarted();
        break;
      case 'stt-speech-end':
        this.stt.speechEnded();
        break;
      case 'arm-inactivity':
        this.disarmInactivity();
        this.inactivityTimer = setTimeout(
          () => this.dispatch({ type: 'inactivity', maxReprompts: this.options.agent.timeouts.inactivityReprompts }),
          this.options.agent.timeouts.inactivityMs,
        );
        break;
      case 'disarm-inactivity':
        this.disarmInactivity();
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
    this.abortTurn();
    const controller = new AbortController();
    this.turnAbort = controller;
    const signal = AbortSignal.any([controller.signal, this.callAbort.signal]);

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
    const agentTurn: AgentTurn = { role: 'agent', text: '', startedAt: new Date().toISOString(), interrupted: false, heardText: '' };
    this.record.turns.push(agentTurn);
    const current = { record: agentTurn, utteranceId: null as number | null };
    this.currentAgentTurn = current;
    const brainName = this.options.engines.brain.name;

    const events = this.brain.turn(input, { signal, history: [...this.history], ...(turnEndedAtMs !== undefined ? { turnEndedAtMs } : {}) });
    const filler = fillerForTurn({
      turnEndedAtMs,
      nowMs: this.now(),
      afterMs: this.options.agent.timeouts.fillerAfterMs,
      fillers: this.options.agent.offline.fillers,
      index: this.record.turns.length,
      tts: this.options.engines.fillerTts,
      onError: (error) => this.options.logger.warn({ err: error }, 'filler voice failed'),
    });
    runReply({ playout: this.playout, tts: this.options.engines.tts }, events, signal, {
      onUtterance: (id) => (current.utteranceId = id),
      onFirstText: () => {
        hooks?.onFirstText();
        this.state = speakingPhase(this.state);
      },
      onFirstAudioChunk: () => hooks?.onFirstAudioChunk(),
      onBrainEvent: (event) => this.onBrainEvent(event),
      onSpeak: (piece) => this.ledger.spoken(piece),
      onAudioComplete: (utteranceId) => this.capExitWait(utteranceId),
    }, filler)
      .then((result) => {
        agentTurn.text = result.text;
        if (result.outcome === 'played') agentTurn.heardText = result.text;
        // Nothing reached the voice (abandoned before its first words, or a turn with no text): the
        // caller heard nothing, so the record keeps no agent turn for it.
        if (!result.text) this.dropAgentTurn(agentTurn);
        if (this.turnAbort === controller) this.turnAbort = null;
        if (result.outcome === 'played') {
          if (result.text) this.history.push({ role: 'agent', text: result.text });
          if (result.text) this.ledger.emit({ type: 'agent-turn', text: result.text });
          this.dispatch({ type: 'reply-done', outcome: 'played' });
        }
      })
      .catch((error: unknown) => {
        if (!agentTurn.text && !agentTurn.heardText) this.dropAgentTurn(agentTurn);
        if (this.ended || signal.aborted) return;
        this.options.metrics.stageErrors.inc({ stage: 'brain', provider: brainName });
        this.options.logger.error({ err: error }, 'agent reply failed');
        this.dispatch({ type: 'brain-failed' });
      });
  }

  private dropAgentTurn(turn: AgentTurn): void {
    const index = this.record.turns.indexOf(turn);
    if (index >= 0 && !turn.text && !turn.heardText) this.record.turns.splice(index, 1);
  }

  /** Hang up after the goodbye has played, but never wait forever for a mark that may not come. */
  private capExitWait(utteranceId: number): void {
    if (!this.state.pendingExit) return;
    const capMs = this.playout.unplayedMs(utteranceId) + this.options.agent.timeouts.hangupMarkTimeoutMs;
    this.exitCapTimer = setTimeout(() => {
      this.options.logger.warn({ capMs }, 'final mark not echoed in time; ending the call anyway');
      this.dispatch({ type: 'reply-done', outcome: 'played' });
    }, capMs);
  }

  private onBrainEvent(event: Exclude<BrainEvent, { type: 'text' }>): void {
    switch (event.type) {
      case 'tool-call':
        this.record.toolCalls.push(event.call);
        this.options.metrics.toolCalls.inc({ tool: event.call.name, ok: String(event.call.ok) });
        break;
      case 'slots':
        Object.assign(this.record.slots, event.slots);
        break;
      case 'listen':
        this.stt.setHints(event.hints);
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

  private bargeIn(): void {
    const clearedAt = this.now();
    const reports = this.playout.clear();
    this.abortTurn();
    this.record.bargeIns++;
    this.options.metrics.bargeIns.inc();
    if (this.speechOnsetAt !== null) this.options.metrics.bargeInLatency.observe(Math.max(0, clearedAt - this.speechOnsetAt) / 1000);
    const current = this.currentAgentTurn;
    const report = reports.find((r) => r.utteranceId === current?.utteranceId) ?? reports.at(-1);
    if (current) {
      current.record.interrupted = true;
      current.record.text = report?.text || current.record.text;
      current.record.heardText = report?.heardText ?? '';
      if (current.record.heardText) this.history.push({ role: 'agent', text: current.record.heardText });
      this.brain.interrupted?.(current.record.heardText);
      this.ledger.emit({ type: 'agent-interrupted', text: current.record.text, heardText: current.record.heardText });
    }
    this.options.logger.info({ heardText: report?.heardText, playedMs: report?.playedMs }, 'barge-in: agent audio cleared');
  }

  private sayClosingLine(text: string): void {
    this.abortTurn();
    this.playout.clear();
    const agentTurn: AgentTurn = { role: 'agent', text, startedAt: new Date().toISOString(), interrupted: false, heardText: '' };
    this.record.turns.push(agentTurn);
    const signal = this.callAbort.signal;
    const cap = setTimeout(() => this.dispatch({ type: 'closing-done' }), this.options.agent.timeouts.hangupMarkTimeoutMs + 2000);
    runReply({ playout: this.playout, tts: this.options.engines.tts }, fixedText(text), signal, {
      onSpeak: (piece) => this.ledger.spoken(piece),
    })
      .then((result) => {
        if (result.outcome === 'played') {
          agentTurn.heardText = text;
          this.ledger.emit({ type: 'agent-turn', text });
        }
      })
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'closing line failed'))
      .finally(() => {
        clearTimeout(cap);
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

  private abortTurn(): void {
    if (this.turnAbort) {
      this.turnAbort.abort(new Error('turn aborted'));
      this.turnAbort = null;
    }
  }

  private disarmInactivity(): void {
    if (this.inactivityTimer) clearTimeout(this.inactivityTimer);
    this.inactivityTimer = null;
  }

  private finalize(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.abortTurn();
    this.callAbort.abort(new Error(`call ended: ${reason}`));
    this.disarmInactivity();
    clearTimeout(this.maxDurationTimer);
    if (this.exitCapTimer) clearTimeout(this.exitCapTimer);
    this.keypad.close();
    this.playout.close();
    this.stt.close();
    this.intake.close();
    this.options.engines.dispose?.();
    this.ledger.settle(reason, this.options.engines.llmUsage?.());
    this.options.onEnd?.(this.record);
  }
}
