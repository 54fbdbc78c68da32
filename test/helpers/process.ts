/** Polling helpers: no timed assertions, just "eventually" with a generous ceiling. */
export async function waitFor(condition: () => boolean, timeoutMs = 20_000, stepMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
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
