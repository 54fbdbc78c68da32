/**
 * How long one Claude request may keep trying, as pure arithmetic on a monotonic clock (so tests
 * drive it with plain numbers). The caller has been waiting since their last word, not since the
 * request started: while nothing has been said in the turn, the deadline counts from the end of
 * the caller's turn, so slow endpointing or recognition eats into the budget and the fallback brain
 * still answers in time (issue 10: the answer within 3 s of the turn's end, so Claude gets about
 * 2.5 s and the flow brain and the voice the rest). Once words were spoken (a later tool round),
 * the caller is not in silence and the deadline counts from the request's own start.
 */

export interface RetryPolicy {
  /** Time within which a request may be (re)tried, ms: from the turn's end, or from the request's start once words were said. */
  budgetMs: number;
  /** Longest wait for the first content event of one attempt, ms. */
  firstTokenTimeoutMs: number;
  /** Backoff before retry n is `min(backoffMaxMs, backoffBaseMs * 2^(n-1))`, or the server's retry-after if longer. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** An attempt needs at least this long to be worth starting, ms (also the floor of its first-token wait). */
  minAttemptMs: number;
}

export interface RequestStart {
  /** When this request started, on the brain's monotonic clock. */
  startedAtMs: number;
  /** When the caller's turn ended (their last word), same clock; unknown for unprompted turns. */
  turnEndedAtMs?: number | undefined;
  /** Something was already said in this turn (an earlier round's words or a filler). */
  spoke: boolean;
}

/** The time after which no new attempt starts. */
export function retryDeadline(policy: RetryPolicy, start: RequestStart): number {
  const from =
    !start.spoke && start.turnEndedAtMs !== undefined ? Math.min(start.turnEndedAtMs, start.startedAtMs) : start.startedAtMs;
  return from + policy.budgetMs;
}

/**
 * The first-token wait of an attempt starting at `nowMs`: what is left of the budget, but never
 * less than `minAttemptMs` (the first attempt always runs, even when recognition was slow) and
 * whole ms (the SDK wants integers).
 */
export function attemptTimeoutMs(policy: RetryPolicy, deadlineMs: number, nowMs: number): number {
  return Math.round(Math.max(policy.minAttemptMs, Math.min(policy.firstTokenTimeoutMs, deadlineMs - nowMs)));
}

/**
 * After failed attempt `attempt` (1-based), at `nowMs`: how long to wait before the next one, or
 * null when the next attempt could not get `minAttemptMs` before the deadline (give up now and let
 * the fallback answer, rather than wait out a sleep that cannot end in an answer).
 */
export function retryDelayMs(policy: RetryPolicy, deadlineMs: number, nowMs: number, attempt: number, retryAfterMs?: number): number | null {
  const backoff = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** (attempt - 1));
  const delay = Math.max(backoff, retryAfterMs ?? 0);
  return nowMs + delay + policy.minAttemptMs > deadlineMs ? null : delay;
}
