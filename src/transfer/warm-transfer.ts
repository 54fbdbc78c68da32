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
}

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

  constructor(private readonly options: WarmTransferOptions) {
    this.now = options.now ?? Date.now;
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
    const holdStartedAt = new Date(this.now()).toISOString();
    const ringing = await store.transition(attempt.id, ['pending'], 'ringing', { whisper: summary.text, holdStartedAt });
    if (!ringing) return true; // the caller hung up in between; the conference callback handled it
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

  /** TwiML for the person's leg when they answer. */
  async whisper(attemptId: string): Promise<string | null> {
    const attempt = await this.options.store.attempt(attemptId);
    if (!attempt || attempt.status !== 'ringing') return null;
    return whisperTwiml(this.options.publicUrl, attemptId, attempt.whisper ?? '', this.config);
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
    if (!ended?.personCallSid) return;
    // Stop ringing (or whispering to) the person: nobody is waiting any more.
    for (const status of ['canceled', 'completed'] as const) {
      try {
        await this.rest().calls(ended.personCallSid).update({ status });
        return;
      } catch (error) {
        if (restStatus(error) === 404) return;
      }
    }
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

  /** A resumed call has ended: one record for the whole call, with its transfers. */
  async completeResumedRecord(previous: CallRecord, resumed: CallRecord): Promise<CallRecord> {
    const merged: CallRecord = {
      ...resumed,
      streamSid: previous.streamSid,
      startedAt: previous.startedAt,
      turns: [...previous.turns, ...resumed.turns],
      toolCalls: [...previous.toolCalls, ...resumed.toolCalls],
      slots: { ...previous.slots, ...resumed.slots },
      bargeIns: previous.bargeIns + resumed.bargeIns,
      streamEvents: [...previous.streamEvents, ...resumed.streamEvents],
      fallbacks: [...previous.fallbacks, ...resumed.fallbacks],
      transfers: await this.options.store.attemptsFor(resumed.callSid),
    };
    return merged;
  }

  /** Nobody took it: the caller goes back to the agent (once, whoever calls this first). */
  private async bringBack(attemptId: string, outcome: AttemptOutcome): Promise<void> {
    const returning = await this.finish(attemptId, ['ringing', 'pending'], 'returning', outcome);
    if (!returning) return;
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
  }

  private async finish(attemptId: string, from: TransferAttempt['status'][], status: TransferAttempt['status'], outcome: AttemptOutcome) {
    const moved = await this.options.store.transition(attemptId, from, status, { outcome, endedAt: new Date(this.now()).toISOString() });
    if (moved) {
      if (outcome !== 'answered') this.options.metrics.outcomes.inc({ outcome });
      await this.annotateRecord(moved.callSid);
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
