/**
 * Call records: live ones in memory while the call runs, persisted through a CallRecordPort:
 * by default `<dataDir>/calls/<callSid>.json` (CallRecordFiles: temp file, fsync, rename; directories
 * 0700, files 0600: transcripts are personal data), PostgreSQL when DATABASE_URL is set. A call's
 * record is written when it starts, so every worker sharing the store can read it, and again when
 * it ends. Writes of one call are serialized, so two status callbacks arriving together cannot
 * lose an update.
 */
import { redactCallRecord, type Redactor } from '../observability/redact.js';
import { CALL_SID, type CallRecord } from './call-record.js';
import { CallRecordFiles } from './embedded/call-record-files.js';
import type { CallRecordPort } from './ports.js';
import { makePrivateDir } from './private-files.js';

export class CallRecordStore {
  private readonly port: CallRecordPort;
  private readonly live = new Map<string, CallRecord>();
  private readonly writes = new Set<Promise<unknown>>();
  /** The last queued write of each call: the next one starts after it. */
  private readonly chains = new Map<string, Promise<unknown>>();

  /** Personal data is redacted in everything this store hands out or writes. */
  constructor(
    dataDir: string,
    private readonly redact: Redactor = (text) => text,
    port?: CallRecordPort,
    private readonly onWriteError: (error: unknown) => void = () => undefined,
  ) {
    makePrivateDir(dataDir);
    this.port = port ?? new CallRecordFiles(dataDir);
  }

  track(record: CallRecord): void {
    this.live.set(record.callSid, record);
    // The start snapshot: lets any worker answer GET /calls/:sid while the call runs elsewhere.
    this.serialized(record.callSid, () => this.port.save(redactCallRecord(record, this.redact))).catch(this.onWriteError);
  }

  /**
   * Persist a finished record; resolves once it is stored. `record` may still be in the making
   * (a promise: e.g. the transfers added from the store): the write is queued now, so `flush()`
   * (drain, shutdown) waits for it.
   */
  save(record: CallRecord, ready?: Promise<CallRecord>): Promise<void> {
    return this.serialized(record.callSid, async () => {
      try {
        const final = ready ? await ready.catch(() => record) : record;
        if (!CALL_SID.test(final.callSid)) throw new Error(`refusing to store a record for callSid ${JSON.stringify(final.callSid)}`);
        await this.port.save(redactCallRecord(final, this.redact));
      } finally {
        this.live.delete(record.callSid);
      }
    });
  }

  /**
   * Read-modify-write of a stored record, after every earlier write of that call. `change` returns
   * false to leave the file alone. Resolves false when there is no such record.
   */
  update(callSid: string, change: (record: CallRecord) => boolean): Promise<boolean> {
    if (!CALL_SID.test(callSid)) return Promise.resolve(false);
    return this.serialized(callSid, async () => {
      const stored = await this.port.get(callSid);
      if (!stored) return false;
      if (change(stored)) await this.port.save(stored);
      return true;
    });
  }

  async get(callSid: string): Promise<CallRecord | undefined> {
    if (!CALL_SID.test(callSid)) return undefined;
    const live = this.live.get(callSid);
    if (live) return redactCallRecord(live, this.redact);
    return this.port.get(callSid);
  }

  /** Wait for every pending write (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }

  private serialized<T>(callSid: string, run: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(callSid) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(run);
    const settled = next.catch(() => undefined);
    this.chains.set(callSid, settled);
    this.writes.add(next);
    void settled.then(() => {
      this.writes.delete(next);
      if (this.chains.get(callSid) === settled) this.chains.delete(callSid);
    });
    return next;
  }
}
