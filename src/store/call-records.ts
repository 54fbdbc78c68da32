/**
 * Call records: live ones in memory while the call runs, finished ones written atomically as
 * `<dataDir>/calls/<callSid>.json` (temp file, fsync, rename), readable only by this user
 * (directories 0700, files 0600: transcripts are personal data). Writes of one call are
 * serialized, so two status callbacks arriving together cannot lose an update.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { redactCallRecord, type Redactor } from '../observability/redact.js';
import type { CallRecord } from './call-record.js';

const CALL_SID = /^[A-Za-z0-9_-]{1,64}$/;

/** Creates `dir` (and parents) 0700, and tightens it if it already existed. */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    chmodSync(dir, 0o700);
  } catch {
    // Not ours to change (a mounted volume): the files inside are still 0600.
  }
}

/** Writes `data` to `file` atomically: a 0600 temp file, flushed to disk, then renamed over. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(tmp, file);
}

export class CallRecordStore {
  private readonly dir: string;
  private readonly live = new Map<string, CallRecord>();
  private readonly writes = new Set<Promise<unknown>>();
  /** The last queued write of each call: the next one starts after it. */
  private readonly chains = new Map<string, Promise<unknown>>();

  /** Personal data is redacted in everything this store hands out or writes. */
  constructor(
    dataDir: string,
    private readonly redact: Redactor = (text) => text,
  ) {
    makePrivateDir(dataDir);
    this.dir = join(dataDir, 'calls');
    makePrivateDir(this.dir);
  }

  track(record: CallRecord): void {
    this.live.set(record.callSid, record);
  }

  /** Persist a finished record; resolves once it is on disk. */
  save(record: CallRecord): Promise<void> {
    return this.serialized(record.callSid, async () => {
      try {
        if (!CALL_SID.test(record.callSid)) throw new Error(`refusing to store a record for callSid ${JSON.stringify(record.callSid)}`);
        await writeFileAtomic(this.file(record.callSid), JSON.stringify(redactCallRecord(record, this.redact), null, 2));
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
      const stored = await this.readStored(callSid);
      if (!stored) return false;
      if (change(stored)) await writeFileAtomic(this.file(callSid), JSON.stringify(stored, null, 2));
      return true;
    });
  }

  async get(callSid: string): Promise<CallRecord | undefined> {
    if (!CALL_SID.test(callSid)) return undefined;
    const live = this.live.get(callSid);
    if (live) return redactCallRecord(live, this.redact);
    return this.readStored(callSid);
  }

  /** Wait for every pending write (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }

  private file(callSid: string): string {
    return join(this.dir, `${callSid}.json`);
  }

  private async readStored(callSid: string): Promise<CallRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.file(callSid), 'utf8')) as CallRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
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
