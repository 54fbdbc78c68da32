/**
 * Files that hold personal data (call records, recordings, the outage spool): directories 0700,
 * files 0600, written atomically so a crash never leaves half a record.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';

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
