/** Polling helpers: no timed assertions, just "eventually" with a generous ceiling. */
export async function waitFor(condition: () => boolean, timeoutMs = 20_000, stepMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** `waitFor` with a name for what is awaited, so a timeout says what never happened. */
export async function until(condition: () => boolean, what: string | (() => string), timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** True while a process exists and is not a zombie we already reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

import { readdirSync, readFileSync } from 'node:fs';

/** Live child processes of `ppid` (optionally only those named `command`) (Linux /proc), e.g. to check nothing was left running. */
export function childPids(command?: string, ppid = process.pid): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (Number(fields[1]) === ppid && fields[0] !== 'Z' && (!command || comm === command)) out.push(Number(entry));
    } catch {
      // process exited while we were looking
    }
  }
  return out;
}
