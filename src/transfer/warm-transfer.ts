/**
 * The warm transfer, driven by Twilio's callbacks. Any worker can run any step: the attempt, the
 * conversation snapshot and the callback requests are in the TransferStore, and every step that
 * acts moves the attempt with a compare-and-set, so two racing callbacks never both act.
 *
 *   handOver   session finished the hold line → snapshot stored, caller into the conference
 *              (REST update with TwiML: the media stream ends), person's leg dialled
 *   whisper    person answered → the summary and "press 1" (a <Gather>)
 *   accept     "1" → into the conference (answered); anything else / nothing → back to the agent
 *   person     the person's leg ended: no-answer, busy, failed, or hung up before pressing 1
 *   conference the caller left the conference while on hold (hung up) → stop ringing the person
 *   resume     the new media stream for the caller: the stored conversation, once
 *   expire     Twilio reported nothing by the attempt's deadline (stored with it, so any worker's
 *              sweep finds it even when the one that put the caller on hold is gone) → back to the agent
 *   cancel     the caller talked over the hold line and went on with the agent → the pending attempt ends
 */
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-schema.js';
import type { CallRecord } from '../store/call-record.js';
import type { CallRecordStore } from '../store/call-records.js';
import type { AttemptOutcome, ConversationSnapshot, TransferAttempt, TransferStore } from '../store/transfer-store.js';
import type { Summarizer } from './summary.js';
import type { TransferMetrics } from './transfer-metrics.js';
import { declineTwiml, holdTwiml, joinTwiml, resumeTwiml, transferPath, whisperTwiml } from './twiml.js';
import { restStatus, twilioRestClient, type TwilioRestOptions } from './twilio-rest.js';

export interface WarmTransferOptions {
  store: TransferStore;
  agent: AgentConfig;
  twilio: TwilioRestOptions;
  /** PUBLIC_URL: every callback URL Twilio signs is built from it. */
  publicUrl: string;
  summarizer: Summarizer;
  records: CallRecordStore;
  metrics: TransferMetrics;
  logger: Logger;
  now?: () => number;
  /** Per REST request, ms. */
  requestTimeoutMs?: number;
  /** A stream ticket for the resumed `<Connect><Stream>` (the same issuer /voice uses). */
  issueTicket: (call: { callSid: string; from: string; to: string }) => string;
  /** How often this worker looks for attempts past their deadline, ms (default 2 s, jittered). */
  sweepMs?: number;
}

/** Margin on top of ringing and the press-1 window for the whisper itself, s. */
const WHISPER_ROOM_SECONDS = 60;

/** The person's leg status → outcome when the attempt is still ringing. */
const PERSON_FAILURES: Record<string, AttemptOutcome> = {
  'no-answer': 'no-answer',
  busy: 'busy',
  failed: 'failed',
  canceled: 'no-answer',
  // Answered but hung up before pressing 1 (the accept callback would have moved it on).
  completed: 'declined',
};

export class WarmTransfer {
  private readonly now: () => number;
  /** Deadlines of the attempts this worker put on hold (the sweep covers everyone else's). */
  private readonly deadlines = new Map<string, NodeJS.Timeout>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly options: WarmTransferOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Starts the sweep for attempts past their deadline (any worker's). */
  start(): void {
    if (this.sweeper) return;
    const every = (this.options.sweepMs ?? 2000) + Math.floor(Math.random() * 250);
    this.sweeper = setInterval(() => void this.sweep(), every);
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const timer of this.deadlines.values()) clearTimeout(timer);
    this.deadlines.clear();
  }

  /** How long a caller may stay on hold without Twilio telling us anything, ms. */
  get holdTimeoutMs(): number {
    const c = this.config;
    return (c.holdTimeoutSeconds ?? c.ringTimeoutSeconds + c.acceptTimeoutSeconds + WHISPER_ROOM_SECONDS) * 1000;
  }

  /** Brings back every caller whose attempt is past its deadline; resolves to how many. */
  async sweep(): Promise<number> {
    try {
      const overdue = await this.options.store.overdue(['ringing'], new Date(this.now()));
      for (const attempt of overdue) await this.expire(attempt.id);
      return overdue.length;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'warm transfer: could not look for callers past their hold deadline');
      return 0;
    }
  }

  /** Twilio said nothing by the deadline: the caller comes back and the person's phone stops ringing. */
  async expire(attemptId: string): Promise<void> {
    this.disarm(attemptId);
    const returning = await this.bringBack(attemptId, 'timeout');
    if (!returning) return;
    this.options.logger.warn({ callSid: returning.callSid, attemptId, holdTimeoutMs: this.holdTimeoutMs }, 'warm transfer: no word from Twilio by the hold deadline; caller back to the agent');
    if (returning.personCallSid) await this.hangUpPerson(returning.personCallSid);
  }

  /**
   * The caller talked over the hold line and the conversation went on: the warm attempts still
   * pending for the call end as `cancelled` (no hand-over will come for them).
   */
  async cancelPending(callSid: string, outcome: 'cancelled' | 'caller-hung-up' = 'cancelled'): Promise<number> {
    let cancelled = 0;
    for (const attempt of await this.options.store.attemptsFor(callSid)) {
      // The call is still the agent's (or just ended): its own record write carries the attempt.
      if (attempt.status === 'pending' && (await this.finish(attempt.id, ['pending'], 'ended', outcome, false))) cancelled++;
    }
    if (cancelled > 0) this.options.logger.info({ callSid, outcome, cancelled }, 'warm transfer: pending attempt closed without a hand-over');
    return cancelled;
  }

  private get config() {
    return this.options.agent.transfer;
  }

  private rest() {
    return twilioRestClient(this.options.twilio, AbortSignal.timeout(this.options.requestTimeoutMs ?? 8000));
  }

  /**
   * The agent's hold line has played. True when the warm transfer took the call over; false when
   * there is no pending warm attempt (a cold transfer, or none) and the session should close.
   */
  async handOver(callSid: string, snapshot: ConversationSnapshot): Promise<boolean> {
    const attempt = (await this.options.store.attemptsFor(callSid)).findLast((a) => a.status === 'pending' && a.mode === 'warm');
    if (!attempt) return false;
    const log = this.options.logger.child({ callSid, attemptId: attempt.id });
    const { store, publicUrl, metrics } = this.options;
    await store.saveSnapshot(callSid, snapshot);
    const summary = await this.options.summarizer.summarize(snapshot, attempt.topic, AbortSignal.timeout(5000));
    metrics.whispers.inc({ source: summary.source });
    metrics.attempts.inc({ mode: 'warm' });
    try {
      await this.rest().calls(callSid).update({ twiml: holdTwiml(publicUrl, attempt.id, this.config) });
    } catch (error) {
      log.error({ err: error, status: restStatus(error) }, 'warm transfer: could not put the caller on hold');
      await this.finish(attempt.id, ['pending'], 'ended', 'failed');
      return false;
    }
    const holdStart = this.now();
    const deadlineAt = new Date(holdStart + this.holdTimeoutMs).toISOString();
    const ringing = await store.transition(attempt.id, ['pending'], 'ringing', { whisper: summary.text, holdStartedAt: new Date(holdStart).toISOString(), deadlineAt });
    if (!ringing) return true; // the caller hung up in between; the conference callback handled it
    this.armDeadline(attempt.id);
    try {
      const person = await this.rest().calls.create({
        to: attempt.targetNumber,
        from: this.config.callerId ?? snapshot.record.to,
        url: publicUrl + transferPath(attempt.id, 'whisper'),
        method: 'POST',
        statusCallback: publicUrl + transferPath(attempt.id, 'person'),
        statusCallbackMethod: 'POST',
        statusCallbackEvent: ['completed'],
        timeout: this.config.ringTimeoutSeconds,
      });
      await store.transition(attempt.id, ['ringing'], 'ringing', { personCallSid: person.sid });
      log.info({ target: attempt.targetLabel, personCallSid: person.sid, whisperSource: summary.source }, 'warm transfer: caller on hold, person dialled');
    } catch (error) {
      log.error({ err: error, status: restStatus(error) }, 'warm transfer: could not dial the person');
      await this.bringBack(attempt.id, 'failed');
    }
    return true;
  }

  /**
   * TwiML for the person's leg when they answer. Their picking up restarts the clock: the hold
   * deadline moves to now + the accept window + room for the whisper, so a person who answered
   * late in the ring window still gets the whole whisper and time to press 1.
   */
  async whisper(attemptId: string): Promise<string | null> {
    const attempt = await this.options.store.attempt(attemptId);
    if (!attempt || attempt.status !== 'ringing') return null;
    await this.extendDeadline(attemptId, attempt.deadlineAt);
    return whisperTwiml(this.options.publicUrl, attemptId, attempt.whisper ?? '', this.config);
  }

  private async extendDeadline(attemptId: string, current: string | null): Promise<void> {
    const answeredDeadline = this.now() + (this.config.acceptTimeoutSeconds + WHISPER_ROOM_SECONDS) * 1000;
    if (current !== null && Date.parse(current) >= answeredDeadline) return;
    const extended = await this.options.store.transition(attemptId, ['ringing'], 'ringing', { deadlineAt: new Date(answeredDeadline).toISOString() });
    if (extended && this.deadlines.has(attemptId)) this.armDeadline(attemptId, answeredDeadline - this.now());
  }

  /** The person's key (empty: no key before the gather timed out). TwiML for their leg. */
  async accept(attemptId: string, digits: string): Promise<string> {
    const { store, metrics } = this.options;
    if (digits === '1') {
      const current = await store.attempt(attemptId);
      const answeredAt = this.now();
      const holdStart = current?.holdStartedAt ? Date.parse(current.holdStartedAt) : answeredAt;
      const timeToHumanMs = Math.max(0, answeredAt - holdStart);
      const answered = await store.transition(attemptId, ['ringing'], 'answered', {
        outcome: 'answered',
        answeredAt: new Date(answeredAt).toISOString(),
        timeToHumanMs,
      });
      if (answered) {
        this.disarm(attemptId);
        metrics.outcomes.inc({ outcome: 'answered' });
        metrics.timeToHuman.observe(timeToHumanMs / 1000);
        await this.annotateRecord(answered.callSid);
        return joinTwiml(attemptId);
      }
      // Too late: the caller hung up or was already taken back.
      return declineTwiml(this.config, this.config.messages.callerGone);
    } else {
      await this.bringBack(attemptId, digits === '' ? 'timeout' : 'declined');
    }
    return declineTwiml(this.config);
  }

  /** Status callback of the person's leg. */
  async personStatus(attemptId: string, callStatus: string): Promise<void> {
    const attempt = await this.options.store.attempt(attemptId);
    if (!attempt) return;
    if (attempt.status === 'answered' && callStatus === 'completed') {
      await this.finish(attemptId, ['answered'], 'ended', 'answered');
      return;
    }
    const outcome = PERSON_FAILURES[callStatus];
    if (outcome) await this.bringBack(attemptId, outcome);
  }

  /** Conference status callback: the caller leaving while still on hold means they hung up. */
  async conferenceEvent(attemptId: string, event: string, callSid: string | undefined): Promise<void> {
    if (event !== 'participant-leave') return;
    const attempt = await this.options.store.attempt(attemptId);
    if (!attempt || callSid !== attempt.callSid) return;
    const ended = await this.finish(attemptId, ['pending', 'ringing'], 'ended', 'caller-hung-up');
    if (ended?.personCallSid) await this.hangUpPerson(ended.personCallSid);
  }

  /** Stops ringing (or whispering to) the person: nobody is waiting any more. */
  private async hangUpPerson(personCallSid: string): Promise<void> {
    // `canceled` only ends a leg still ringing; one already answered needs `completed`.
    for (const status of ['canceled', 'completed'] as const) {
      try {
        await this.rest().calls(personCallSid).update({ status });
        return;
      } catch (error) {
        if (restStatus(error) === 404) return;
      }
    }
  }

  private disarm(attemptId: string): void {
    clearTimeout(this.deadlines.get(attemptId));
    this.deadlines.delete(attemptId);
  }

  private armDeadline(attemptId: string, afterMs = this.holdTimeoutMs): void {
    this.disarm(attemptId);
    const timer = setTimeout(() => void this.expire(attemptId).catch((error: unknown) => this.options.logger.warn({ err: error, attemptId }, 'warm transfer: hold deadline failed')), afterMs);
    timer.unref();
    this.deadlines.set(attemptId, timer);
  }

  /**
   * The new media stream of a caller coming back: the stored conversation, or null when this
   * stream is not a resume we started (wrong call, replayed, already resumed).
   */
  async resume(callSid: string, attemptId: string): Promise<ConversationSnapshot | null> {
    const attempt = await this.options.store.attempt(attemptId);
    if (!attempt || attempt.callSid !== callSid) return null;
    if (!(await this.options.store.transition(attemptId, ['returning'], 'resumed'))) return null;
    return this.options.store.snapshot(callSid);
  }

  /**
   * A call's stream has ended: its record with the transfers. A resumed call is one record for the
   * whole call (the turns before the hold and after it). Attempts still under way are left to the
   * step that ends them (it annotates the stored record then).
   */
  async completeRecord(record: CallRecord, resumedFrom?: CallRecord): Promise<CallRecord> {
    const transfers = await this.options.store.attemptsFor(record.callSid);
    if (!resumedFrom) {
      const settled = transfers.length > 0 && transfers.every((a) => a.status === 'ended' || a.status === 'resumed');
      return settled ? { ...record, transfers } : record;
    }
    return {
      ...record,
      streamSid: resumedFrom.streamSid,
      startedAt: resumedFrom.startedAt,
      turns: [...resumedFrom.turns, ...record.turns],
      toolCalls: [...resumedFrom.toolCalls, ...record.toolCalls],
      slots: { ...resumedFrom.slots, ...record.slots },
      bargeIns: resumedFrom.bargeIns + record.bargeIns,
      streamEvents: [...resumedFrom.streamEvents, ...record.streamEvents],
      fallbacks: [...resumedFrom.fallbacks, ...record.fallbacks],
      transfers,
    };
  }

  /** Nobody took it: the caller goes back to the agent (once, whoever calls this first). */
  private async bringBack(attemptId: string, outcome: AttemptOutcome): Promise<TransferAttempt | null> {
    const returning = await this.finish(attemptId, ['ringing', 'pending'], 'returning', outcome);
    if (!returning) return null;
    const record = (await this.options.store.snapshot(returning.callSid))?.record;
    const call = { callSid: returning.callSid, from: record?.from ?? returning.from, to: record?.to ?? '' };
    const twiml = resumeTwiml(this.options.publicUrl, call, attemptId, this.options.issueTicket(call));
    try {
      await this.rest().calls(returning.callSid).update({ twiml });
      this.options.logger.info({ callSid: returning.callSid, attemptId, outcome }, 'warm transfer: nobody took the call; caller back to the agent');
    } catch (error) {
      this.options.logger.warn({ err: error, callSid: returning.callSid, status: restStatus(error) }, 'warm transfer: could not bring the caller back');
      await this.options.store.transition(attemptId, ['returning'], 'ended');
    }
    return returning;
  }

  private async finish(attemptId: string, from: TransferAttempt['status'][], status: TransferAttempt['status'], outcome: AttemptOutcome, annotate = true) {
    const moved = await this.options.store.transition(attemptId, from, status, { outcome, endedAt: new Date(this.now()).toISOString() });
    if (moved) {
      this.disarm(attemptId);
      if (outcome !== 'answered') this.options.metrics.outcomes.inc({ outcome });
      if (annotate) await this.annotateRecord(moved.callSid);
    }
    return moved;
  }

  /** The stored call record gets the attempts as they are now (the session wrote it when the stream ended). */
  private async annotateRecord(callSid: string): Promise<void> {
    try {
      await this.options.records.flush();
      const record = await this.options.records.get(callSid);
      if (!record) return;
      record.transfers = await this.options.store.attemptsFor(callSid);
      // The agent's part ended in a hand-off (a resumed call's record is written when it ends).
      if (!record.transfers.some((a) => a.status === 'resumed')) record.endReason = 'transferred';
      await this.options.records.save(record);
    } catch (error) {
      this.options.logger.warn({ err: error, callSid }, 'could not add the transfer to the call record');
    }
  }
}
