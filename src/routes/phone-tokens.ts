/**
 * Short-lived, single-use credentials for the browser phone. One `POST /phone/session` issues a pair:
 * a media token (authenticates the `/media` upgrade instead of a Twilio signature) and an events
 * token (opens the live event socket for that same call). Both belong to one `PhoneLink`, which is
 * how the call's session events find the page that placed the call: no lookup by callSid, so one
 * browser can never subscribe to another caller's call.
 *
 * Tokens are 256-bit random, kept only as SHA-256 digests, valid for `ttlMs`, and deleted on first
 * use. Pure apart from the injected clock and randomness, so expiry is testable without waiting.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CallSessionEvent } from '../dialog/call-events.js';

export type PhoneTokenKind = 'media' | 'events';

/** Events seen before the page's event socket attached are kept (bounded) and replayed on attach. */
const MAX_BACKLOG = 200;

/** Connects one browser call's session events to that browser's event socket. */
export class PhoneLink {
  private listener: ((event: CallSessionEvent) => void) | null = null;
  private backlog: CallSessionEvent[] = [];

  publish(event: CallSessionEvent): void {
    if (this.listener) return this.listener(event);
    if (this.backlog.length < MAX_BACKLOG) this.backlog.push(event);
  }

  attach(listener: (event: CallSessionEvent) => void): void {
    this.listener = listener;
    const pending = this.backlog;
    this.backlog = [];
    for (const event of pending) listener(event);
  }

  detach(): void {
    this.listener = null;
  }
}

export interface IssuedPhoneSession {
  mediaToken: string;
  eventsToken: string;
  /** Epoch ms after which neither token is accepted. */
  expiresAt: number;
}

export interface PhoneTokenStoreOptions {
  ttlMs?: number;
  /** Wall clock, epoch ms (injected in tests). */
  now?: () => number;
  random?: (bytes: number) => Buffer;
  /** Unused sessions kept at most; the oldest are dropped first (the route is admin-only anyway). */
  maxOutstanding?: number;
}

interface Entry {
  kind: PhoneTokenKind;
  link: PhoneLink;
  expiresAt: number;
}

export class PhoneTokenStore {
  readonly ttlMs: number;
  private readonly now: () => number;
  private readonly random: (bytes: number) => Buffer;
  private readonly maxOutstanding: number;
  /** digest → entry; Map keeps insertion order, so the oldest come first when sweeping. */
  private readonly entries = new Map<string, Entry>();

  constructor(options: PhoneTokenStoreOptions = {}) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? randomBytes;
    this.maxOutstanding = options.maxOutstanding ?? 1000;
  }

  issue(): IssuedPhoneSession {
    this.sweep();
    const link = new PhoneLink();
    const expiresAt = this.now() + this.ttlMs;
    const mediaToken = this.random(32).toString('base64url');
    const eventsToken = this.random(32).toString('base64url');
    this.entries.set(digest(mediaToken), { kind: 'media', link, expiresAt });
    this.entries.set(digest(eventsToken), { kind: 'events', link, expiresAt });
    while (this.entries.size > this.maxOutstanding * 2) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return { mediaToken, eventsToken, expiresAt };
  }

  /** The link of a valid, unexpired token of `kind`, which is used up; null otherwise. */
  consume(token: string | undefined, kind: PhoneTokenKind): PhoneLink | null {
    if (!token) return null;
    const key = digest(token);
    const entry = this.entries.get(key);
    if (!entry || entry.kind !== kind) return null;
    this.entries.delete(key);
    return entry.expiresAt > this.now() ? entry.link : null;
  }

  get size(): number {
    return this.entries.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
