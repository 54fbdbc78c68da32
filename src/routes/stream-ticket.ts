/**
 * Stream tickets bind a media stream to the `/voice` webhook that announced it. Twilio signs only
 * the constant stream URL, so a captured upgrade could be replayed to add calls or overwrite a real
 * call's record. `/voice` therefore adds a `<Parameter name="streamTicket">` carrying an HMAC of the
 * call's callSid, from, to and an expiry; Twilio hands it back in `start.customParameters`, and a
 * `start` without a valid, unused ticket is refused.
 *
 * The key: derived from TWILIO_AUTH_TOKEN when set (every instance of a deployment has it), else
 * STREAM_SECRET, else a per-process random key. The webhook and the socket of one call may land on
 * different workers or machines, so only the first two work across instances; the random key is
 * the development fallback for a single process, and the startup log says which one is in use.
 *
 * Tickets are single-use within this process (remembered until they expire); the live-call
 * registry makes "callSid already live" hold across processes.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const STREAM_TICKET_PARAMETER = 'streamTicket';
const DEFAULT_TTL_MS = 2 * 60_000;
/** Used tickets remembered at most (each until it expires); beyond that the oldest are forgotten. */
const MAX_REMEMBERED = 100_000;

export interface TicketedCall {
  callSid: string;
  from: string;
  to: string;
}

export type TicketVerdict = 'ok' | 'missing' | 'malformed' | 'expired' | 'invalid' | 'used';

export type StreamSecretSource = 'twilio-auth-token' | 'stream-secret' | 'per-process-random';

export function streamTicketKey(config: { twilio: { authToken: string | undefined }; streamSecret: string | undefined }): {
  key: Buffer;
  source: StreamSecretSource;
} {
  const derive = (secret: string) => createHmac('sha256', secret).update('voice-agent stream ticket v1').digest();
  if (config.twilio.authToken) return { key: derive(config.twilio.authToken), source: 'twilio-auth-token' };
  if (config.streamSecret) return { key: derive(config.streamSecret), source: 'stream-secret' };
  return { key: randomBytes(32), source: 'per-process-random' };
}

export class StreamTickets {
  private readonly used = new Map<string, number>();

  constructor(
    private readonly key: Buffer,
    private readonly now: () => number = Date.now,
    readonly ttlMs = DEFAULT_TTL_MS,
  ) {}

  issue(call: TicketedCall): string {
    const expiresAt = this.now() + this.ttlMs;
    return `${expiresAt.toString(36)}.${this.mac(call, expiresAt)}`;
  }

  /** Checks the ticket and, when valid, uses it up. */
  redeem(call: TicketedCall, ticket: string | undefined): TicketVerdict {
    if (!ticket) return 'missing';
    const match = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(ticket);
    if (!match) return 'malformed';
    const expiresAt = parseInt(match[1]!, 36);
    const given = Buffer.from(match[2]!, 'base64url');
    const expected = Buffer.from(this.mac(call, expiresAt), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    const now = this.now();
    if (expiresAt <= now) return 'expired';
    this.sweep(now);
    if (this.used.has(ticket)) return 'used';
    this.used.set(ticket, expiresAt);
    return 'ok';
  }

  private mac(call: TicketedCall, expiresAt: number): string {
    return createHmac('sha256', this.key)
      .update(JSON.stringify([call.callSid, call.from, call.to, expiresAt]))
      .digest('base64url');
  }

  private sweep(now: number): void {
    for (const [ticket, expiresAt] of this.used) {
      if (expiresAt > now && this.used.size < MAX_REMEMBERED) break;
      this.used.delete(ticket);
    }
  }
}
