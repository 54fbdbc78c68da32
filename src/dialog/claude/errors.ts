/**
 * Every way a Claude request can fail, sorted in one place into: the caller hung up or barged in
 * (not a failure), worth another attempt within the turn budget, or final. The SDK's own retries are
 * off (`maxRetries: 0`) so this is the only retry policy.
 */
import { APIConnectionError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';

/** No content arrived within the first-token timeout, or the stream went quiet mid-reply. */
export class ClaudeStallError extends Error {
  constructor(readonly phase: 'first-token' | 'idle', readonly afterMs: number) {
    super(`Claude stream stalled (${phase}, ${afterMs} ms without an event)`);
    this.name = 'ClaudeStallError';
  }
}

/** The stream ended without `message_stop` (connection dropped or cut by a proxy). */
export class ClaudeIncompleteStreamError extends Error {
  constructor() {
    super('Claude stream ended before message_stop');
    this.name = 'ClaudeIncompleteStreamError';
  }
}

/** The turn gave up on Claude: the retry budget is spent or the error is not retryable. */
export class ClaudeTurnFailedError extends Error {
  constructor(readonly reason: string, readonly attempts: number, options?: { cause?: unknown }) {
    super(`Claude turn failed after ${attempts} attempt(s): ${reason}`, options);
    this.name = 'ClaudeTurnFailedError';
  }
}

export type FailureClass =
  | { kind: 'aborted' }
  | { kind: 'retryable'; reason: string; retryAfterMs?: number }
  | { kind: 'final'; reason: string };

/** In-stream `error` event types that mean "try again" (the HTTP 429/529/5xx equivalents). */
const RETRYABLE_STREAM_ERRORS = new Set(['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error']);

export function classifyFailure(error: unknown, callerSignal: AbortSignal): FailureClass {
  // Checked first: a barge-in or hang-up also surfaces as an abort, and is never a failure.
  if (callerSignal.aborted) return { kind: 'aborted' };
  if (error instanceof ClaudeStallError) return { kind: 'retryable', reason: `stall-${error.phase}` };
  if (error instanceof ClaudeIncompleteStreamError) return { kind: 'retryable', reason: 'incomplete-stream' };
  // A user abort we did not ask for (the watchdog uses ClaudeStallError): treat as a lost connection.
  if (error instanceof APIUserAbortError) return { kind: 'retryable', reason: 'aborted-unexpectedly' };
  if (error instanceof APIConnectionError) return { kind: 'retryable', reason: 'connection' };
  if (error instanceof APIError) {
    const status = error.status;
    if (status === undefined) {
      // An `error` event inside the stream: the SDK gives it no status, only the error type.
      const type = error.type ?? 'unknown';
      return RETRYABLE_STREAM_ERRORS.has(type) ? { kind: 'retryable', reason: `stream-${type}` } : { kind: 'final', reason: `stream-${type}` };
    }
    if (status === 408 || status === 409 || status === 429 || status >= 500) {
      const retryAfterMs = retryAfter(error.headers);
      return { kind: 'retryable', reason: `http-${status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    }
    return { kind: 'final', reason: `http-${status}` };
  }
  // undici's "terminated" when the socket drops mid-body, and friends.
  if (error instanceof Error && /terminated|socket|ECONNRESET|other side closed/i.test(`${error.message} ${String(error.cause ?? '')}`)) {
    return { kind: 'retryable', reason: 'connection' };
  }
  return { kind: 'final', reason: error instanceof Error ? error.name : 'unknown' };
}

function retryAfter(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const raw = headers.get('retry-after');
  if (raw === null) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}
