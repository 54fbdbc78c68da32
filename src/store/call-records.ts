/**
 * Call records: live ones in memory while the call runs, finished ones written atomically
 * (temp file + rename) as `<dataDir>/calls/<callSid>.json`.
 */
import { mkdirSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redactCallRecord, type Redactor } from '../observability/redact.js';
import type { CallRecord } from './call-record.js';

const CALL_SID = /^[A-Za-z0-9_-]{1,64}$/;

export class CallRecordStore {
  private readonly dir: string;
  private readonly live = new Map<string, CallRecord>();
  private readonly writes = new Set<Promise<void>>();

  /** Personal data is redacted in everything this store hands out or writes. */
  constructor(
    dataDir: string,
    private readonly redact: Redactor = (text) => text,
  ) {
    this.dir = join(dataDir, 'calls');
    mkdirSync(this.dir, { recursive: true });
  }

  track(record: CallRecord): void {
    this.live.set(record.callSid, record);
  }

  /** Persist a finished record; resolves once it is on disk. */
  save(record: CallRecord): Promise<void> {
    const write = (async () => {
      if (!CALL_SID.test(record.callSid)) throw new Error(`refusing to store a record for callSid ${JSON.stringify(record.callSid)}`);
      const file = join(this.dir, `${record.callSid}.json`);
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(tmp, JSON.stringify(redactCallRecord(record, this.redact), null, 2));
      await rename(tmp, file);
    })().finally(() => {
      this.live.delete(record.callSid);
      this.writes.delete(write);
    });
    this.writes.add(write);
    return write;
  }

  async get(callSid: string): Promise<CallRecord | undefined> {
    if (!CALL_SID.test(callSid)) return undefined;
    const live = this.live.get(callSid);
    if (live) return redactCallRecord(live, this.redact);
    try {
      return JSON.parse(await readFile(join(this.dir, `${callSid}.json`), 'utf8')) as CallRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Wait for every pending write (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }
}
