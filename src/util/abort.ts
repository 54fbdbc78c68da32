/**
 * Waits for `work` or for `signal` to abort, whichever comes first, and always removes its abort
 * listener. Callers decide what an abort means (stop quietly, fail, report 'aborted'), so work that
 * ignores its signal can never hold a call, a turn or a tool past its cancellation.
 */
export type Raced<T> = { aborted: true } | { aborted: false; value: T };

export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<Raced<T>> {
  if (signal.aborted) return Promise.resolve({ aborted: true });
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve({ aborted: true });
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve({ aborted: false, value });
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The error a cancelled operation rejects with (`name` 'AbortError', like fetch and the SDKs). */
export function abortError(what: string): Error {
  const error = new Error(`${what} aborted`);
  error.name = 'AbortError';
  return error;
}

/** Resolves true after `ms`, or false as soon as `signal` aborts (the timer is cleared either way). */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
