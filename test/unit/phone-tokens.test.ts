import { describe, expect, it } from 'vitest';
import { PhoneLink, PhoneTokenStore } from '../../src/routes/phone-tokens.js';
import type { CallSessionEvent } from '../../src/dialog/call-events.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('browser phone tokens', () => {
  it('are long random strings, one pair per session, bound to one link', () => {
    const store = new PhoneTokenStore();
    const a = store.issue();
    const b = store.issue();
    expect(a.mediaToken).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits, base64url
    expect(new Set([a.mediaToken, a.eventsToken, b.mediaToken, b.eventsToken]).size).toBe(4);
    const media = store.consume(a.mediaToken, 'media');
    const events = store.consume(a.eventsToken, 'events');
    expect(media).toBeInstanceOf(PhoneLink);
    expect(events).toBe(media);
    expect(store.consume(b.mediaToken, 'media')).not.toBe(media);
  });

  it('are single use', () => {
    const store = new PhoneTokenStore();
    const { mediaToken } = store.issue();
    expect(store.consume(mediaToken, 'media')).not.toBeNull();
    expect(store.consume(mediaToken, 'media')).toBeNull();
  });

  it('only open what they were issued for', () => {
    const store = new PhoneTokenStore();
    const { mediaToken, eventsToken } = store.issue();
    expect(store.consume(eventsToken, 'media')).toBeNull();
    expect(store.consume(mediaToken, 'events')).toBeNull();
    expect(store.consume(undefined, 'media')).toBeNull();
    expect(store.consume('', 'media')).toBeNull();
    expect(store.consume('guess', 'media')).toBeNull();
  });

  it('expire after the ttl and are swept', () => {
    const time = clock();
    const store = new PhoneTokenStore({ ttlMs: 60_000, now: time.now });
    const first = store.issue();
    expect(first.expiresAt).toBe(time.now() + 60_000);
    time.advance(59_999);
    expect(store.consume(first.mediaToken, 'media')).not.toBeNull();
    time.advance(1);
    expect(store.consume(first.eventsToken, 'events')).toBeNull();
    const second = store.issue();
    time.advance(60_000);
    store.issue(); // sweeps the expired second pair
    expect(store.size).toBe(2);
    expect(store.consume(second.mediaToken, 'media')).toBeNull();
  });

  it('keep a bounded number of unused sessions', () => {
    const store = new PhoneTokenStore({ maxOutstanding: 3 });
    const oldest = store.issue();
    for (let i = 0; i < 5; i++) store.issue();
    expect(store.size).toBe(6);
    expect(store.consume(oldest.mediaToken, 'media')).toBeNull();
  });
});

describe('phone link', () => {
  it('replays events published before the page attached, then streams live', () => {
    const link = new PhoneLink();
    const seen: CallSessionEvent[] = [];
    link.publish({ type: 'agent-turn', text: 'Hello.' });
    link.attach((e) => seen.push(e));
    link.publish({ type: 'call-ended', reason: 'caller-hangup' });
    expect(seen.map((e) => e.type)).toEqual(['agent-turn', 'call-ended']);
    link.detach();
    link.publish({ type: 'agent-turn', text: 'lost' });
    expect(seen).toHaveLength(2);
  });
});
