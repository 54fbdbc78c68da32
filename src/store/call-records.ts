/**
 * Call records: live ones in memory while the call runs, persisted through a CallRecordPort
 * (files under DATA_DIR by default, PostgreSQL when DATABASE_URL is set). A call's record is
 * written when it starts, so every worker sharing the store can read it, and again when it ends.
 */
import { redactCallRecord, type Redactor } from '../observability/redact.js';
import type { CallRecord } from './call-record.js';
import { CallRecordFiles } from './embedded/call-record-files.js';
import type { CallRecordPort } from './ports.js';

const CALL_SID = /^[A-Za-z0-9_-]{1,64}$/;

export class CallRecordStore {
  private readonly live = new Map<string, CallRecord>();
  private readonly writes = new Set<Promise<void>>();
  private readonly port: CallRecordPort;

  /** Personal data is redacted in everything this store hands out or writes. */
  constructor(
    dataDir: string,
    private readonly redact: Redactor = (text) => text,
    port?: CallRecordPort,
    private readonly onWriteError: (error: unknown) => void = () => undefined,
  ) {
    this.port = port ?? new CallRecordFiles(dataDir);
  }

  track(record: CallRecord): void {
    this.live.set(record.callSid, record);
    // The start snapshot: lets any worker answer GET /calls/:sid while the call runs elsewhere.
    this.write(record).catch(this.onWriteError);
  }

  /** Persist a finished record; resolves once it is stored (or spooled). */
  save(record: CallRecord): Promise<void> {
    return this.write(record).finally(() => this.live.delete(record.callSid));
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

  private write(record: CallRecord): Promise<void> {
    const write = (async () => {
      if (!CALL_SID.test(record.callSid)) throw new Error(`refusing to store a record for callSid ${JSON.stringify(record.callSid)}`);
      await this.port.save(redactCallRecord(record, this.redact));
    })().finally(() => this.writes.delete(write));
    this.writes.add(write);
    return write;
  }
}
