/**
 * Per-socket limits of the media WebSocket, as pure bookkeeping (the route acts on the verdicts):
 * how many malformed frames a socket may send, how often they are logged, and how far ahead of real
 * time its frames may run. Twilio sends one 20 ms frame every 20 ms and no malformed ones; these
 * limits leave it wide room and stop a client that floods or fuzzes.
 */

/** Malformed frames one socket may send before it is closed. */
export const MAX_PROTOCOL_ERRORS = 50;
/** The first few protocol errors are logged one by one; after that, one summary per interval. */
const LOGGED_ERRORS = 5;
const ERROR_SUMMARY_INTERVAL_MS = 10_000;
/** Messages a socket may send up front (30 s of frames: Twilio delivers a backlog after a network stall). */
export const MESSAGE_BURST = 1_500;
/** …plus this many times the real-time rate of 20 ms frames. */
export const MESSAGE_RATE_FACTOR = 10;
const FRAME_MS = 20;

/**
 * How far ahead of real time a socket's messages may run. `null` turns the check off: only for
 * the in-process replay tool, which plays recorded calls faster than real time on purpose.
 */
export interface MessageRateLimit {
  burst: number;
  factor: number;
}
export const TWILIO_MESSAGE_RATE: MessageRateLimit = { burst: MESSAGE_BURST, factor: MESSAGE_RATE_FACTOR };

export type ErrorVerdict = { log: 'each' } | { log: 'summary'; suppressed: number } | { log: 'none' } | { close: true };

export class MediaSocketGuard {
  private errors = 0;
  private suppressed = 0;
  private lastSummaryAt: number;
  private messages = 0;

  constructor(
    private readonly openedAt: number,
    private readonly rate: MessageRateLimit | null = TWILIO_MESSAGE_RATE,
  ) {
    this.lastSummaryAt = openedAt;
  }

  /** A malformed frame arrived at `now` (ms): log it, summarise, stay quiet, or close the socket. */
  protocolError(now: number): ErrorVerdict {
    this.errors++;
    if (this.errors > MAX_PROTOCOL_ERRORS) return { close: true };
    if (this.errors <= LOGGED_ERRORS) return { log: 'each' };
    this.suppressed++;
    if (now - this.lastSummaryAt < ERROR_SUMMARY_INTERVAL_MS) return { log: 'none' };
    const suppressed = this.suppressed;
    this.suppressed = 0;
    this.lastSummaryAt = now;
    return { log: 'summary', suppressed };
  }

  /** A message arrived at `now` (ms); false when the socket is running far ahead of real time. */
  message(now: number): boolean {
    this.messages++;
    if (!this.rate) return true;
    const allowed = this.rate.burst + (Math.max(0, now - this.openedAt) / FRAME_MS) * this.rate.factor;
    return this.messages <= allowed;
  }

  get protocolErrors(): number {
    return this.errors;
  }
}
