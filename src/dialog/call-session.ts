/**
 * One call: owns the per-call engines, timers and AbortControllers, feeds events into the pure turn
 * machine and executes its effects. Data flows one way:
 * socket → decode → VAD/STT → turn machine → brain → TTS → playout → socket.
 */
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-schema.js';
import { decodeMulaw } from '../media/mulaw.js';
import { Playout } from '../media/playout.js';
import { initialSegmenterState, segment, type SegmenterConfig, type SegmenterEvent } from '../media/vad/speech-segmenter.js';
import type { Vad, VadStream } from '../media/vad/vad.js';
import type { Metrics } from '../observability/metrics.js';
import type { SpeechToText, SttEvent, SttStream } from '../speech/stt.js';
import type { TextToSpeech } from '../speech/tts.js';
import type { AgentTurn, CallRecord, CallerTurn, TurnMetrics } from '../store/call-record.js';
import type { Brain, BrainEvent, BrainInput, BrainSession, ConversationTurn } from './brain.js';
import { keypadTimeout, pressKey, type KeypadMode, type KeypadResult, type KeypadState } from './keypad.js';
import { fixedText, runReply } from './reply-runner.js';

/** Pause after the last key that ends a digit entry, ms. */
const KEYPAD_PAUSE_MS = 2500;
import { initialTurnState, speakingPhase, transition, type TurnEffect, type TurnEvent, type TurnState } from './turn-machine.js';

export interface CallEngines {
  stt: SpeechToText;
  tts: TextToSpeech;
  vad: Vad;
  brain: Brain;
}

export interface CallTransport {
  sendMedia(mulaw: Uint8Array): void;
  sendMark(name: string): void;
  sendClear(): void;
  /** End the media stream; Twilio then runs the TwiML after </Connect> (a <Hangup/>). */
  close(): void;
}

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
}

interface CallerTurnTiming {
  /** The speech on the inbound media clock (see CallerTurn.audio). */
  audio?: { startMs: number; endMs: number };
  lastWordAt: number;
  endOfTurnAt: number;
  transcriptAt: number | null;
  firstTextAt: number | null;
}

export class CallSession {
  readonly record: CallRecord;
  private state: TurnState = initialTurnState;
  private readonly options: CallSessionOptions;
  private readonly now: () => number;
  private readonly callAbort = new AbortController();
  private readonly playout: Playout;
  private readonly stt: SttStream;
  private readonly vad: VadStream;
  private readonly brain: BrainSession;
  private readonly history: ConversationTurn[] = [];
  private segmenter = initialSegmenterState;
  private readonly segmenterConfig: SegmenterConfig;
  private vadChain: Promise<void> = Promise.resolve();
  private turnAbort: AbortController | null = null;
  private currentAgentTurn: { record: AgentTurn; utteranceId: number | null } | null = null;
  private pendingTiming: CallerTurnTiming | null = null;
  private speechOnsetAt: number | null = null;
  /** Inbound audio the VAD has processed, ms: the media clock the segmenter's events refer to. */
  private audioMs = 0;
  private speechOnsetAudioMs = 0;
  private inactivityTimer: NodeJS.Timeout | null = null;
  private exitCapTimer: NodeJS.Timeout | null = null;
  private readonly maxDurationTimer: NodeJS.Timeout;
  private ended = false;
  private keypadMode: KeypadMode = 'single';
  private keypad: KeypadState = { keys: '' };
  private keypadTimer: NodeJS.Timeout | null = null;

  constructor(options: CallSessionOptions) {
    this.options = options;
    this.now = options.now ?? (() => performance.now());
    const { engines, agent, transport, metrics } = options;
    this.segmenterConfig = { ...agent.turn, minBargeInMs: agent.bargeIn.minSpeechMs };
    this.record = {
      callSid: options.callSid,
      streamSid: options.streamSid,
      from: options.from,
      to: options.to,
      startedAt: new Date().toISOString(),
      endedAt: null,
      endReason: null,
      engines: { stt: engines.stt.name, llm: engines.brain.name, tts: engines.tts.name, vad: engines.vad.name },
      turns: [],
      toolCalls: [],
      slots: {},
      bargeIns: 0,
      streamEvents: [],
      protocolErrors: {},
    };
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
      onFirstAudio: () => this.onFirstAudioSent(),
    });
    this.stt = engines.stt.open({
      signal: this.callAbort.signal,
      hints: {},
      preRollMs: agent.turn.preRollMs,
      onEvent: (event) => this.onSttEvent(event),
    });
    this.vad = engines.vad.createStream();
    this.brain = engines.brain.createSession({ callSid: options.callSid, from: options.from, to: options.to });
    this.maxDurationTimer = setTimeout(() => this.dispatch({ type: 'max-duration' }), agent.timeouts.maxDurationMs);
    metrics.callsActive.inc();
    metrics.callsTotal.inc();
  }

  get phase(): TurnState['phase'] {
    return this.state.phase;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  start(): void {
    this.dispatch({ type: 'start' });
  }

  /** One inbound frame (gaps already filled), μ-law 8 kHz. */
  onAudio(mulaw: Uint8Array): void {
    if (this.ended) return;
    this.options.metrics.framesIn.inc();
    const pcm = decodeMulaw(mulaw);
    // The recogniser gets each frame in step with the VAD's decisions about it, so an utterance
    // cut at speech-start/speech-end holds exactly that audio even when frames arrive in a burst.
    this.vadChain = this.vadChain
      .then(() => this.vad.process(pcm))
      .then((windows) => {
        if (this.ended) return;
        this.stt.write(mulaw);
        this.audioMs += mulaw.length / 8;
        for (const window of windows) {
          const [next, events] = segment(this.segmenter, window, this.segmenterConfig);
          this.segmenter = next;
          for (const event of events) this.onSegmenterEvent(event);
        }
      })
      .catch((error: unknown) => {
        if (!this.ended) this.options.logger.error({ err: error }, 'vad failed on a frame');
      });
  }

  onDtmf(key: string): void {
    if (this.ended) return;
    // A key press interrupts the agent at once, even when the entry is not complete yet.
    if (this.playout.isPlaying) {
      this.dispatch({ type: 'barge-in-eligible', agentAudioPending: true, bargeInEnabled: true });
    }
    this.onKeypadResult(pressKey(this.keypad, key, this.keypadMode));
  }

  private onKeypadResult(result: KeypadResult): void {
    this.keypad = result.state;
    if (this.keypadTimer) clearTimeout(this.keypadTimer);
    this.keypadTimer = null;
    if (result.entry !== null) {
      this.dispatch({ type: 'dtmf', digits: result.entry, agentAudioPending: this.playout.isPlaying });
    }
    if (result.waitForMore) {
      this.disarmInactivity();
      this.keypadTimer = setTimeout(() => this.onKeypadResult(keypadTimeout(this.keypad)), KEYPAD_PAUSE_MS);
    }
  }

  onMark(name: string): void {
    this.playout.onMark(name);
  }

  noteProtocolError(code: string): void {
    this.record.protocolErrors[code] = (this.record.protocolErrors[code] ?? 0) + 1;
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
        this.speechOnsetAudioMs = Math.max(0, this.audioMs - event.leadMs);
        this.dispatch({ type: 'speech-start', agentAudioPending });
        break;
      case 'barge-in-eligible':
        this.dispatch({ type: 'barge-in-eligible', agentAudioPending, bargeInEnabled: this.options.agent.bargeIn.enabled });
        break;
      case 'speech-end': {
        const at = this.now();
        this.pendingTiming = { lastWordAt: at - event.trailingMs, endOfTurnAt: at, transcriptAt: null, firstTextAt: null };
        this.pendingTiming.audio = { startMs: round(this.speechOnsetAudioMs), endMs: round(this.audioMs - event.trailingMs) };
        this.dispatch({ type: 'speech-end' });
        break;
      }
    }
  }

  private onSttEvent(event: SttEvent): void {
    if (this.ended) return;
    if (event.type === 'transcript-final' && event.endOfTurn) {
      if (this.pendingTiming) this.pendingTiming.transcriptAt = this.now();
      this.dispatch({ type: 'transcript', text: event.text, confidence: event.confidence });
    } else if (event.type === 'error') {
      this.options.metrics.stageErrors.inc({ stage: 'stt', provider: this.options.engines.stt.name });
      this.options.logger.warn({ err: event.error, fatal: event.fatal }, 'speech recognition error');
      if (this.pendingTiming && this.state.phase === 'thinking') {
        this.dispatch({ type: 'transcript', text: '', confidence: 0 });
      }
    }
  }

  private dispatch(event: TurnEvent): void {
    if (this.ended) return;
    const [next, effects] = transition(this.state, event);
    this.state = next;
    for (const effect of effects) this.execute(effect, event);
  }

  private execute(effect: TurnEffect, cause: TurnEvent): void {
    switch (effect.type) {
      case 'run-brain':
        this.startReply(effect.input, cause);
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
      case 'transfer':
        this.options.transport.close();
        break;
      case 'finalize':
        this.finalize(effect.reason);
        break;
    }
  }

  private startReply(input: BrainInput, cause: TurnEvent): void {
    this.abortTurn();
    const controller = new AbortController();
    this.turnAbort = controller;
    const signal = AbortSignal.any([controller.signal, this.callAbort.signal]);

    let metrics: TurnMetrics | null = null;
    if (input.type !== 'call-start' && input.type !== 'no-input') {
      metrics = this.recordCallerTurn(input, cause);
    }
    const timing = metrics ? this.pendingTiming : null;
    this.pendingTiming = null;
    const agentTurn: AgentTurn = { role: 'agent', text: '', startedAt: new Date().toISOString(), interrupted: false, heardText: '' };
    this.record.turns.push(agentTurn);
    this.currentAgentTurn = { record: agentTurn, utteranceId: null };
    this.pendingTtfa = metrics && timing ? { metrics, timing } : null;
    const ttsName = this.options.engines.tts.name;
    const brainName = this.options.engines.brain.name;
    let firstTextAt: number | null = null;

    const events = this.brain.turn(input, { signal, history: [...this.history] });
    const current = this.currentAgentTurn;
    runReply({ playout: this.playout, tts: this.options.engines.tts }, events, signal, {
      onUtterance: (id) => (current.utteranceId = id),
      onFirstText: () => {
        firstTextAt = this.now();
        if (metrics && timing?.transcriptAt != null) {
          metrics.llmFirstTokenMs = round(firstTextAt - timing.transcriptAt);
          this.options.metrics.observeStage('brain_first_token', brainName, metrics.llmFirstTokenMs);
        }
        this.state = speakingPhase(this.state);
      },
      onFirstAudioChunk: () => {
        if (metrics && firstTextAt !== null) {
          metrics.ttsFirstByteMs = round(this.now() - firstTextAt);
          this.options.metrics.observeStage('tts_first_byte', ttsName, metrics.ttsFirstByteMs);
        }
      },
      onBrainEvent: (event) => this.onBrainEvent(event),
      onAudioComplete: (utteranceId) => {
        // Hang up after the goodbye has played, but never wait forever for a mark that may not come.
        if (!this.state.pendingExit) return;
        const capMs = this.playout.unplayedMs(utteranceId) + this.options.agent.timeouts.hangupMarkTimeoutMs;
        this.exitCapTimer = setTimeout(() => {
          this.options.logger.warn({ capMs }, 'final mark not echoed in time; ending the call anyway');
          this.dispatch({ type: 'reply-done', outcome: 'played' });
        }, capMs);
      },
    })
      .then((result) => {
        agentTurn.text = result.text;
        if (result.outcome === 'played') agentTurn.heardText = result.text;
        if (this.turnAbort === controller) this.turnAbort = null;
        if (result.outcome === 'played') {
          if (result.text) this.history.push({ role: 'agent', text: result.text });
          this.dispatch({ type: 'reply-done', outcome: 'played' });
        }
      })
      .catch((error: unknown) => {
        if (this.ended || signal.aborted) return;
        this.options.metrics.stageErrors.inc({ stage: 'brain', provider: brainName });
        this.options.logger.error({ err: error }, 'agent reply failed');
        this.dispatch({ type: 'brain-failed' });
      });
  }

  private pendingTtfa: { metrics: TurnMetrics; timing: CallerTurnTiming } | null = null;

  private onFirstAudioSent(): void {
    const pending = this.pendingTtfa;
    this.pendingTtfa = null;
    if (!pending) return;
    pending.metrics.ttfaMs = round(this.now() - pending.timing.lastWordAt);
    this.options.metrics.ttfa.observe(pending.metrics.ttfaMs / 1000);
  }

  private recordCallerTurn(input: BrainInput, cause: TurnEvent): TurnMetrics {
    const timing = this.pendingTiming;
    const metrics: TurnMetrics = { ttfaMs: null, endpointMs: null, sttMs: null, llmFirstTokenMs: null, ttsFirstByteMs: null };
    if (timing) {
      metrics.endpointMs = round(timing.endOfTurnAt - timing.lastWordAt);
      this.options.metrics.observeStage('endpoint', 'vad', metrics.endpointMs);
      if (timing.transcriptAt !== null) {
        metrics.sttMs = round(timing.transcriptAt - timing.endOfTurnAt);
        this.options.metrics.observeStage('stt', this.options.engines.stt.name, metrics.sttMs);
      }
    } else if (cause.type === 'dtmf') {
      // A key press has no endpointing: its TTFA runs from the key itself.
      this.pendingTiming = { lastWordAt: this.now(), endOfTurnAt: this.now(), transcriptAt: this.now(), firstTextAt: null };
    }
    const nowIso = new Date().toISOString();
    const text = input.type === 'speech' ? input.text : input.type === 'dtmf' ? input.digits : '';
    const turn: CallerTurn = {
      role: 'caller',
      text,
      startedAt: nowIso,
      endedAt: nowIso,
      input: input.type === 'speech' ? 'speech' : input.type === 'dtmf' ? 'dtmf' : 'no-match',
      metrics,
    };
    if (input.type === 'speech') turn.confidence = input.confidence;
    if (timing?.audio) turn.audio = timing.audio;
    this.record.turns.push(turn);
    if (text) this.history.push({ role: 'caller', text });
    return metrics;
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
        this.keypadMode = event.keypad ?? 'single';
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
    runReply({ playout: this.playout, tts: this.options.engines.tts }, fixedText(text), signal)
      .then((result) => {
        if (result.outcome === 'played') agentTurn.heardText = text;
      })
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'closing line failed'))
      .finally(() => {
        clearTimeout(cap);
        this.dispatch({ type: 'closing-done' });
      });
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
    if (this.keypadTimer) clearTimeout(this.keypadTimer);
    this.playout.close();
    this.stt.close();
    this.vad.close();
    this.record.endedAt = new Date().toISOString();
    this.record.endReason = reason;
    this.options.metrics.callsActive.dec();
    this.options.metrics.callsEnded.inc({ reason });
    this.options.onEnd?.(this.record);
  }
}

function round(ms: number): number {
  return Math.round(ms);
}
