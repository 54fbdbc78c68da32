/**
 * The live calls of this process: capacity, draining on shutdown, and where stream status
 * callbacks find their call record.
 */
import type { Logger } from 'pino';
import type { CallSession } from './dialog/call-session.js';
import type { CallRecordStore } from './store/call-records.js';

export class CallManager {
  private readonly sessions = new Map<string, CallSession>();
  private draining = false;
  private readonly drainWaiters = new Set<() => void>();

  constructor(
    private readonly maxConcurrentCalls: number,
    private readonly records: CallRecordStore,
    private readonly logger: Logger,
  ) {}

  get active(): number {
    return this.sessions.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Why a new call would be refused now, or null. */
  refusalReason(): 'draining' | 'at-capacity' | null {
    if (this.draining) return 'draining';
    if (this.sessions.size >= this.maxConcurrentCalls) return 'at-capacity';
    return null;
  }

  /** The live session of a call, if it is running here. */
  session(callSid: string): CallSession | undefined {
    for (const session of this.sessions.values()) if (session.record.callSid === callSid) return session;
    return undefined;
  }

  has(callSid: string): boolean {
    return this.session(callSid) !== undefined;
  }

  /** Ops hang-up of a call held here: goodbye, then hang up. False when it is not live here. */
  hangup(callSid: string): boolean {
    const session = this.session(callSid);
    if (!session || session.isEnded) return false;
    session.endFromOutside('ops-hangup');
    return true;
  }

  /**
   * Ops transfer of a call held here when Twilio's REST API is not available (browser phone,
   * tests): nothing can bridge the caller to a person, so the agent says goodbye and the call
   * ends as `ops-transfer` for the record. With Twilio, CallControl transfers through REST.
   */
  transfer(callSid: string, _to: string | undefined): boolean {
    const session = this.session(callSid);
    if (!session || session.isEnded) return false;
    session.endFromOutside('ops-transfer');
    return true;
  }

  add(session: CallSession): void {
    this.sessions.set(session.record.streamSid, session);
    this.records.track(session.record);
  }

  remove(session: CallSession): void {
    if (this.sessions.get(session.record.streamSid) === session) this.sessions.delete(session.record.streamSid);
    if (this.sessions.size === 0) for (const resolve of this.drainWaiters) resolve();
  }

  async noteStreamEvent(callSid: string, entry: { event: string; error?: string; at: string }): Promise<void> {
    const live = this.session(callSid);
    if (live) {
      live.record.streamEvents.push(entry);
      return;
    }
    // The stream may already be over (stream-stopped arrives after the socket closed).
    await this.records.flush();
    const stored = await this.records.get(callSid);
    if (stored) {
      stored.streamEvents.push(entry);
      await this.records.save(stored);
    } else if (entry.error) {
      this.logger.error({ callSid, ...entry }, 'stream error for a call with no record (the stream never started)');
    }
  }

  /** Stop taking calls; resolve when live calls have finished or `timeoutMs` passed (then end them). */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    if (this.sessions.size === 0) return;
    this.logger.info({ active: this.sessions.size, timeoutMs }, 'draining: waiting for live calls to finish');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.drainWaiters.add(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    for (const session of [...this.sessions.values()]) session.end('server-shutdown');
    await this.records.flush();
  }
}
