/**
 * The live calls of this process: capacity, draining on shutdown, and where stream status
 * callbacks find their call record.
 */
import type { Logger } from 'pino';
import type { CallSession } from './dialog/call-session.js';
import type { CallRecordStore } from './store/call-records.js';

/** Why a new call is refused. */
export type CallRefusal = 'draining' | 'at-capacity' | 'call-already-live';

/** The handle of one admitted call: a server-side id, never the client's streamSid. */
export interface LiveCall {
  readonly id: number;
  readonly session: CallSession;
}

/** Kept per finished call's record: a misbehaving peer cannot grow a record without bound. */
export const MAX_STREAM_EVENTS = 20;
const MAX_STREAM_EVENT_CHARS = 256;

export class CallManager {
  /** Live calls by server-side id; clients choose streamSid and callSid, so neither is a key. */
  private readonly calls = new Map<number, CallSession>();
  private readonly byCallSid = new Map<string, number>();
  private nextId = 1;
  private readonly socketsByAddress = new Map<string, number>();
  private openSockets = 0;
  private draining = false;
  private readonly drainWaiters = new Set<() => void>();

  constructor(
    private readonly maxConcurrentCalls: number,
    private readonly records: CallRecordStore,
    private readonly logger: Logger,
    private readonly maxSocketsPerAddress = maxConcurrentCalls + 10,
  ) {}

  get active(): number {
    return this.calls.size;
  }

  /** Open media sockets, started or not. */
  get sockets(): number {
    return this.openSockets;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Why a new call (of `callSid`, when known) would be refused now, or null. */
  refusalReason(callSid?: string): CallRefusal | null {
    if (this.draining) return 'draining';
    if (callSid !== undefined && this.byCallSid.has(callSid)) return 'call-already-live';
    if (this.calls.size >= this.maxConcurrentCalls) return 'at-capacity';
    return null;
  }

  /**
   * A media socket from `address` wants to open: false when that address, or the process, already
   * holds as many sockets as it may. Sockets that never start are closed by the media route.
   */
  openSocket(address: string): boolean {
    if (!this.canOpenSocket(address)) return false;
    this.socketsByAddress.set(address, (this.socketsByAddress.get(address) ?? 0) + 1);
    this.openSockets++;
    return true;
  }

  canOpenSocket(address: string): boolean {
    return (this.socketsByAddress.get(address) ?? 0) < this.maxSocketsPerAddress && this.openSockets < this.maxSockets;
  }

  /** Open media sockets the whole process holds at most. */
  get maxSockets(): number {
    return this.maxConcurrentCalls + this.maxSocketsPerAddress;
  }

  closeSocket(address: string): void {
    const held = this.socketsByAddress.get(address) ?? 0;
    if (held <= 1) this.socketsByAddress.delete(address);
    else this.socketsByAddress.set(address, held - 1);
    this.openSockets = Math.max(0, this.openSockets - 1);
  }

  /** The live session of a call, if it is running here. */
  session(callSid: string): CallSession | undefined {
    const id = this.byCallSid.get(callSid);
    return id === undefined ? undefined : this.calls.get(id);
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
   * tests): nothing can bridge the caller to a person, so the agent does what it does when the
   * caller asks for one on such a line: says so and takes a callback request (the dialog's
   * `transfer_to_person`). With Twilio, CallControl transfers through REST.
   */
  transfer(callSid: string, _to: string | undefined): boolean {
    const session = this.session(callSid);
    if (!session || session.isEnded) return false;
    session.handOffFromOutside();
    return true;
  }

  /** Admits a call, or says why not (checked again here: the caller may have awaited since). */
  add(session: CallSession): LiveCall | CallRefusal {
    const refusal = this.refusalReason(session.record.callSid);
    if (refusal) return refusal;
    const id = this.nextId++;
    this.calls.set(id, session);
    this.byCallSid.set(session.record.callSid, id);
    this.records.track(session.record);
    return { id, session };
  }

  remove(call: LiveCall): void {
    if (this.calls.get(call.id) !== call.session) return;
    this.calls.delete(call.id);
    if (this.byCallSid.get(call.session.record.callSid) === call.id) this.byCallSid.delete(call.session.record.callSid);
    if (this.calls.size === 0) for (const resolve of this.drainWaiters) resolve();
  }

  async noteStreamEvent(callSid: string, event: { event: string; error?: string; at: string }): Promise<void> {
    const entry = {
      event: event.event.slice(0, 64),
      ...(event.error ? { error: event.error.slice(0, MAX_STREAM_EVENT_CHARS) } : {}),
      at: event.at.slice(0, 64),
    };
    const live = this.session(callSid);
    if (live) {
      live.noteStreamEvent(entry, MAX_STREAM_EVENTS);
      return;
    }
    // The stream may already be over (stream-stopped arrives after the socket closed): update the
    // stored record, one write at a time per call, and not at all once it holds enough events.
    const found = await this.records.update(callSid, (stored) => {
      if (stored.streamEvents.length >= MAX_STREAM_EVENTS) return false;
      stored.streamEvents.push(entry);
      return true;
    });
    if (!found && entry.error) {
      this.logger.error({ callSid, ...entry }, 'stream error for a call with no record (the stream never started)');
    }
  }

  /** Stop taking calls; resolve when live calls have finished or `timeoutMs` passed (then end them). */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    if (this.calls.size === 0) return;
    this.logger.info({ active: this.calls.size, timeoutMs }, 'draining: waiting for live calls to finish');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.drainWaiters.add(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    for (const session of [...this.calls.values()]) session.end('server-shutdown');
    await this.records.flush();
  }
}
