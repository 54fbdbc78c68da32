/**
 * The agent's side of the line for one call: the playout to Twilio, the reply being spoken (its
 * AbortController and its turn in the record) and what happens to it when the caller talks over it:
 * held (audio cleared at Twilio, the reply kept), resumed from where the caller stopped hearing it,
 * or interrupted for good. The session decides which (through the turn machine); this carries it
 * out and writes it down through the ledger.
 */
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-schema.js';
import { Playout, type HeardReport } from '../media/playout.js';
import type { Metrics } from '../observability/metrics.js';
import type { TextToSpeech } from '../speech/tts.js';
import type { AgentTurn } from '../store/call-record.js';
import type { Scheduler } from '../util/scheduler.js';
import type { BrainEvent } from './brain.js';
import type { CallTransport } from './call-engines.js';
import type { CallLedger } from './call-ledger.js';
import { fixedText, runReply, type ReplyFiller, type ReplyHooks } from './reply-runner.js';
import type { ResumeCause } from './turn-machine.js';
import { splitSentences } from '../util/sentences.js';

/** Words a yes/no question starts with (an auxiliary or modal verb). */
const YES_NO_QUESTION_START = /^(is|are|was|were|am|do|does|did|can|could|shall|should|will|would|may|might|have|has|had|isn't|aren't|don't|doesn't|didn't|won't|wouldn't|shouldn't|can't|couldn't)\b/i;

export function isYesNoQuestion(sentence: string): boolean {
  const s = sentence.trim();
  if (!s.endsWith('?')) return false;
  // "..., is that right?" / "..., okay?": a tag after a statement asks for a yes or no too.
  const clause = s.split(/[,;:]\s*/).at(-1)!;
  return YES_NO_QUESTION_START.test(s) || YES_NO_QUESTION_START.test(clause) || /^(okay|ok|right|correct|alright)\?$/i.test(clause);
}

export interface AgentVoiceDeps {
  agent: Pick<AgentConfig, 'playout' | 'turn'>;
  transport: CallTransport;
  tts: TextToSpeech;
  ledger: CallLedger;
  logger: Logger;
  metrics: Metrics;
  scheduler: Scheduler;
  /** Aborts with the call. */
  callSignal: AbortSignal;
  /** The first audio frame of a reply went on the wire. */
  onFirstAudio: () => void;
}

export type ReplyOutcome = { outcome: 'played' | 'stopped'; text: string } | { outcome: 'failed'; error: unknown };

export class AgentVoice {
  private readonly playout: Playout;
  private turnAbort: AbortController | null = null;
  private current: { record: AgentTurn; utteranceId: number | null } | null = null;
  /** What the caller had heard of the reply when it was held. */
  private held: HeardReport | null = null;
  /** Text of the current reply handed to the voice so far (synthesised or not). */
  private spoken: string[] = [];

  constructor(private readonly deps: AgentVoiceDeps) {
    const { transport, metrics, agent } = deps;
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
      now: () => deps.scheduler.now(),
      onFirstAudio: deps.onFirstAudio,
    });
  }

  /** Agent audio is queued or playing (a held reply is not: the caller hears nothing of it). */
  get isPlaying(): boolean {
    return this.playout.isPlaying;
  }

  onMark(name: string): void {
    this.playout.onMark(name);
  }

  /** Audio of an utterance not yet confirmed played, ms. */
  unplayedMs(utteranceId: number): number {
    return this.playout.unplayedMs(utteranceId);
  }

  /**
   * Speaks one brain turn (started by `start` under the reply's signal) as a new agent turn in the
   * record. Resolves when it played through or was stopped (cleared, aborted); `failed` when the
   * brain or the voice failed while it was still wanted.
   */
  async reply(start: (signal: AbortSignal) => AsyncIterable<BrainEvent>, hooks: ReplyHooks, filler?: ReplyFiller): Promise<ReplyOutcome> {
    this.abort();
    const controller = new AbortController();
    this.turnAbort = controller;
    const signal = AbortSignal.any([controller.signal, this.deps.callSignal]);
    const agentTurn = this.deps.ledger.agentTurn();
    const current = { record: agentTurn, utteranceId: null as number | null };
    this.current = current;
    const spoken: string[] = (this.spoken = []);
    try {
      const result = await runReply({ playout: this.playout, tts: this.deps.tts }, start(signal), signal, {
        ...hooks,
        onUtterance: (id) => (current.utteranceId = id),
        onSpeak: (piece) => {
          spoken.push(piece);
          this.deps.ledger.spoken(piece);
        },
      }, filler);
      const played = result.outcome === 'played';
      this.deps.ledger.agentTurnEnded(agentTurn, result.text, played);
      if (this.turnAbort === controller) this.turnAbort = null;
      return { outcome: played ? 'played' : 'stopped', text: result.text };
    } catch (error) {
      // What reached the voice before the failure stays in the record; nothing at all leaves no turn.
      this.deps.ledger.agentTurnEnded(agentTurn, spoken.join(' '), false);
      if (this.turnAbort === controller) this.turnAbort = null;
      if (signal.aborted) return { outcome: 'stopped', text: '' };
      return { outcome: 'failed', error };
    }
  }

  /** A fixed closing line (goodbye, apology) after whatever was playing; resolves when it is over. */
  async closingLine(text: string): Promise<void> {
    this.abort();
    this.playout.clear();
    const agentTurn = this.deps.ledger.agentTurn(text);
    const result = await runReply({ playout: this.playout, tts: this.deps.tts }, fixedText(text), this.deps.callSignal, {
      onSpeak: (piece) => this.deps.ledger.spoken(piece),
    });
    this.deps.ledger.agentTurnEnded(agentTurn, text, result.outcome === 'played');
  }

  /** Possible interruption: the caller stops hearing the agent at once; the reply is kept. */
  hold(): HeardReport | null {
    const report = this.playout.suspend();
    this.held = report;
    this.deps.logger.info({ heardText: report?.heardText, playedMs: report?.playedMs }, 'caller speech over the agent: reply held');
    return report;
  }

  /**
   * The caller was stopped in the reply's last yes/no question ("Shall I book it?", "… is that right?",
   * "Please say yes or no.") or after it: a "yes" or "yeah" over it answers the question, it is not a
   * listener sound.
   */
  heldOnYesNoQuestion(): boolean {
    const report = this.playout.isSuspended ? this.held : null;
    if (!report) return false;
    // The whole reply as given to the voice: its question may not be synthesised yet.
    const text = this.spoken.join(' ');
    const sentences = splitSentences(text);
    const q = sentences.findLastIndex((s) => isYesNoQuestion(s) || /\byes or no\b/i.test(s));
    if (q < 0) return false;
    // Where the question starts in the reply's text; the caller had reached it.
    const questionAt = text.indexOf(sentences[q]!);
    return report.heardText.length >= questionAt - 1;
  }

  /** The held reply plays on from where the caller stopped hearing it (a little before). */
  resume(cause: ResumeCause): number | null {
    const { resumeBackupMs, resumeRestartSentenceMs } = this.deps.agent.turn;
    const fromMs = this.playout.resume({ backupMs: resumeBackupMs, restartSentenceMs: resumeRestartSentenceMs });
    if (this.current) this.deps.ledger.replyResumed(this.current.record, cause);
    this.deps.logger.info({ cause, fromMs }, 'false interruption: reply resumed');
    return fromMs;
  }

  /**
   * The caller took the turn: the agent's audio is cleared, its work aborted and the reply recorded
   * as interrupted. Returns what the caller heard of it (null: no reply), and whether it was held
   * (then the clear at Twilio happened when it was held).
   */
  interrupt(): { heardText: string | null; wasHeld: boolean; playedMs?: number } {
    const wasHeld = this.playout.isSuspended;
    const reports = this.playout.clear();
    this.abort();
    const current = this.current;
    const report = reports.find((r) => r.utteranceId === current?.utteranceId) ?? reports.at(-1);
    this.deps.ledger.agentInterrupted(current?.record ?? null, report);
    return { heardText: current ? current.record.heardText : null, wasHeld, ...(report ? { playedMs: report.playedMs } : {}) };
  }

  /** Abort the reply in flight (its brain, voice and tool work). */
  abort(): void {
    this.turnAbort?.abort(new Error('turn aborted'));
    this.turnAbort = null;
  }

  close(): void {
    this.abort();
    this.playout.close();
  }
}
