/**
 * Call records that survive a database outage: a save the database cannot take is written to
 * `<DATA_DIR>/spool/call-records/<callSid>.json` (0600) and retried until the database is back,
 * then the file is removed. Only the latest version of a record is kept; nothing is lost, and the
 * call that produced it goes on. Reads fall back to the spool, so a record is readable here while
 * it waits.
 */
import { mkdirSync } from 'node:fs';
import { readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { CALL_SID, type CallRecord } from './call-record.js';
import type { CallRecordPort } from './ports.js';
import { StoreUnavailableError } from './store-errors.js';

export class SpoolingCallRecords implements CallRecordPort {
  private readonly dir: string;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<number> | undefined;

  constructor(
    private readonly inner: CallRecordPort,
    dataDir: string,
    private readonly logger: Logger,
    private readonly retryMs = 5000,
  ) {
    this.dir = join(dataDir, 'spool', 'call-records');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Starts retrying whatever an earlier run left in the spool. */
  start(): void {
    this.schedule(0);
  }

  async save(record: CallRecord): Promise<void> {
    try {
      await this.inner.save(record);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      await this.spool(record);
      this.logger.warn({ callSid: record.callSid, err: error }, 'database unavailable: call record spooled to disk');
      this.schedule(this.retryMs);
    }
  }

  async get(callSid: string): Promise<CallRecord | undefined> {
    const spooled = await this.readSpooled(callSid);
    if (spooled) return spooled;
    return this.inner.get(callSid);
  }

  /** Writes every spooled record to the database; resolves to how many are still waiting. */
  flush(): Promise<number> {
    this.flushing ??= this.flushOnce().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async flushOnce(): Promise<number> {
    let waiting = 0;
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const callSid = name.slice(0, -'.json'.length);
      const record = await this.readSpooled(callSid);
      if (!record) continue;
      try {
        await this.inner.save(record);
        // Remove only the version written: a newer one spooled meanwhile stays for next time.
        const again = await this.readSpooled(callSid);
        if (again && JSON.stringify(again) === JSON.stringify(record)) await unlink(join(this.dir, name)).catch(() => undefined);
        else if (again) waiting++;
        this.logger.info({ callSid }, 'spooled call record written to the database');
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) this.logger.error({ callSid, err: error }, 'spooled call record rejected');
        waiting++;
      }
    }
    return waiting;
  }

  private schedule(delayMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().then(
        (waiting) => waiting > 0 && this.schedule(this.retryMs),
        (error: unknown) => {
          this.logger.error({ err: error }, 'could not flush the call-record spool');
          this.schedule(this.retryMs);
        },
      );
    }, delayMs);
    this.timer.unref();
  }

  private async spool(record: CallRecord): Promise<void> {
    if (!CALL_SID.test(record.callSid)) throw new Error(`refusing to spool a record for callSid ${JSON.stringify(record.callSid)}`);
    const file = join(this.dir, `${record.callSid}.json`);
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
    await rename(tmp, file);
  }

  private async readSpooled(callSid: string): Promise<CallRecord | undefined> {
    if (!CALL_SID.test(callSid)) return undefined;
    try {
      return JSON.parse(await readFile(join(this.dir, `${callSid}.json`), 'utf8')) as CallRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}
