/**
 * The caller's side of the line for one call: inbound audio through the VAD and segmenter, the
 * recogniser fed in step, and the words heard so far judged at the caller's pauses. Everything it
 * learns goes to the session as turn-machine events; what to do about them is the machine's call.
 */
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-schema.js';
import type { SegmenterEvent } from '../media/vad/speech-segmenter.js';
import type { Metrics } from '../observability/metrics.js';
import type { Recognition, SttEvent, SttHints, SttHypothesis, SttStream } from '../speech/stt.js';
import type { Scheduler } from '../util/scheduler.js';
import { AudioIntake } from './audio-intake.js';
import type { CallEngines } from './call-engines.js';
import type { CallLedger } from './call-ledger.js';
import type { TurnEvent } from './turn-machine.js';
import type { TurnTiming } from './turn-timing.js';
import type { Completeness } from './turn-taking/completeness.js';
import { PauseJudge } from './turn-taking/pause-judge.js';

export interface CallerEarDeps {
  agent: AgentConfig;
  engines: CallEngines;
  ledger: CallLedger;
  timing: TurnTiming;
  logger: Logger;
  metrics: Metrics;
  scheduler: Scheduler;
  signal: AbortSignal;
  /** Agent audio is playing (speech now may be talking over it). */
  agentAudible: () => boolean;
  /** The agent's held reply was asking a yes/no question when the caller spoke. */
  heldOnYesNoQuestion: () => boolean;
  /** A failed recogniser leaves the caller's turn waiting for a transcript: answer it as no match. */
  awaitingTranscript: () => boolean;
  dispatch: (event: TurnEvent) => void;
}

export class CallerEar {
  private readonly stt: SttStream;
  private readonly intake: AudioIntake;
  private readonly judge: PauseJudge;
  /** Monotonic time the caller's current speech began (for onset → clear latency). */
  speechOnsetAt: number | null = null;

  constructor(private readonly deps: CallerEarDeps) {
    const { agent, engines, ledger, scheduler } = deps;
    this.judge = new PauseJudge(agent);
    this.stt = engines.stt.open({ signal: deps.signal, hints: {}, preRollMs: agent.turn.preRollMs, onEvent: (event) => this.onSttEvent(event) });
    const hooks = {
      onFrame: (mulaw: Uint8Array) => {
        this.stt.write(mulaw);
        ledger.sttAudio(mulaw.length);
      },
      onEvent: (event: SegmenterEvent) => this.onSegmenterEvent(event),
      onError: (error: unknown) => deps.logger.error({ err: error }, 'vad failed on a frame'),
    };
    this.intake = new AudioIntake(engines.vad.createStream(), { ...agent.turn, minBargeInMs: agent.bargeIn.minSpeechMs, longSpeechMs: agent.turn.maxBackchannelMs }, hooks, scheduler);
  }

  /** One inbound frame (gaps already filled), μ-law 8 kHz. */
  push(mulaw: Uint8Array): void {
    this.intake.push(mulaw);
  }

  /** The brain says what it listens for next (a flow step's grammar and name). */
  listen(hints: SttHints, step: string | undefined): void {
    this.stt.setHints(this.judge.grammarHints(hints));
    this.judge.listen(step);
  }

  speechStarted(): void {
    this.stt.speechStarted();
  }

  speechEnded(): void {
    this.stt.speechEnded();
  }

  /** End the caller's turn after the silence this verdict calls for. */
  endTurnAfter(completeness: Completeness): void {
    this.intake.endTurnAfter(this.judge.silenceFor(completeness));
  }

  close(): void {
    this.stt.close();
    this.intake.close();
  }

  private onSegmenterEvent(event: SegmenterEvent): void {
    const { agent, dispatch, timing } = this.deps;
    const agentAudioPending = this.deps.agentAudible();
    switch (event.type) {
      case 'speech-start':
        this.judge.reset();
        this.speechOnsetAt = this.deps.scheduler.now() - event.leadMs;
        timing.speechStarted(Math.max(0, this.intake.audioMs - event.leadMs));
        dispatch({ type: 'speech-start', agentAudioPending });
        break;
      case 'barge-in-eligible':
        dispatch({ type: 'barge-in-eligible', agentAudioPending, bargeInEnabled: agent.bargeIn.enabled, resumable: agent.turn.resumeFalseInterruptions });
        break;
      case 'speech-long':
        dispatch({ type: 'speech-long' });
        break;
      case 'speech-pause':
        this.stt.speechPaused?.();
        // A streaming recogniser's words are already here; an offline one's arrive as a speculative
        // partial of this pause (words of an earlier pause are stale): until they do, no timer may
        // end the turn on a half sentence.
        if (this.stt.decodesAtPause) {
          if (this.judge.adaptive) this.intake.endTurnAfter(this.judge.undecidedSilenceMs);
        } else if (this.judge.words) this.judgePause();
        break;
      case 'speech-end':
        timing.speechEnded(event.trailingMs, this.intake.speechEndAudioMs(event.trailingMs));
        dispatch({ type: 'speech-end' });
        break;
    }
  }

  private onSttEvent(event: SttEvent): void {
    const { dispatch } = this.deps;
    if (event.type === 'transcript-final' && event.endOfTurn) {
      this.judge.reset();
      this.deps.timing.transcript();
      const { text, confidence, recognition } = event;
      const interjection = this.judge.interjection(text, this.deps.heldOnYesNoQuestion(), otherPass(recognition)?.text);
      dispatch({ type: 'transcript', text, confidence, interjection, ...(recognition ? { recognition } : {}) });
    } else if (event.type === 'transcript-partial') {
      const paused = this.intake.pausedFor(this.deps.agent.turn.pauseMs);
      // Words decoded at an earlier pause are stale once the caller spoke again.
      if (event.speculative && !paused) return;
      this.judge.heard(event.text, otherPass(event.recognition)?.text);
      // New words during a pause: judge again (the wait may get shorter, or longer).
      if (paused) this.judgePause();
    } else if (event.type === 'error') {
      this.deps.metrics.stageErrors.inc({ stage: 'stt', provider: this.deps.engines.stt.name });
      this.deps.logger.warn({ err: event.error, fatal: event.fatal }, 'speech recognition error');
      if (this.deps.awaitingTranscript()) dispatch({ type: 'transcript', text: '', confidence: 0 });
    }
  }

  /** The caller is pausing: tell the turn machine how complete their words are. */
  private judgePause(): void {
    const verdict = this.judge.verdict(this.deps.heldOnYesNoQuestion());
    if (verdict) this.deps.dispatch(verdict);
  }
}

/** The recognition pass the engine did not believe (offline: grammar vs open vocabulary). */
function otherPass(recognition: Recognition | undefined): SttHypothesis | undefined {
  if (!recognition) return undefined;
  return recognition.chosen === 'grammar' ? recognition.open : recognition.grammar;
}
