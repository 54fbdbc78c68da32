/**
 * Call records as files, `<dataDir>/calls/<callSid>.json` (dir 0700, files 0600), written
 * atomically (temp file, fsync, rename). Writes of one call are chained so a later save is never
 * overtaken by an earlier one.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CALL_SID, type CallRecord } from '../call-record.js';
import type { CallRecordPort } from '../ports.js';
import { makePrivateDir, writeFileAtomic } from '../private-files.js';

export class CallRecordFiles implements CallRecordPort {
  private readonly dir: string;
  private readonly chains = new Map<string, Promise<void>>();

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'calls');
    makePrivateDir(this.dir);
  }

  save(record: CallRecord): Promise<void> {
    if (!CALL_SID.test(record.callSid)) return Promise.reject(new Error(`refusing to store a record for callSid ${JSON.stringify(record.callSid)}`));
    const body = JSON.stringify(record, null, 2);
    const previous = this.chains.get(record.callSid) ?? Promise.resolve();
    const write = previous.catch(() => undefined).then(async () => {
      await writeFileAtomic(join(this.dir, `${record.callSid}.json`), body);
    });
    this.chains.set(record.callSid, write);
    void write.finally(() => this.chains.get(record.callSid) === write && this.chains.delete(record.callSid)).catch(() => undefined);
    return write;
  }

  async get(callSid: string): Promise<CallRecord | undefined> {
    if (!CALL_SID.test(callSid)) return undefined;
    try {
      return JSON.parse(await readFile(join(this.dir, `${callSid}.json`), 'utf8')) as CallRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}
