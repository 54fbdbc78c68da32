import { describe, expect, it } from 'vitest';
import { MAX_PROTOCOL_ERRORS, MediaSocketGuard, MESSAGE_BURST, MESSAGE_RATE_FACTOR } from '../../../src/routes/media-guard.js';

describe('media socket pace limit', () => {
  it('admits the burst, then only the real-time rate times the factor', () => {
    const guard = new MediaSocketGuard(0);
    for (let i = 0; i < MESSAGE_BURST; i++) expect(guard.message(0)).toBe(true);
    expect(guard.message(0)).toBe(false);
    // One second later: 50 frames of real time × the factor more.
    const later = new MediaSocketGuard(0);
    for (let i = 0; i < MESSAGE_BURST + 50 * MESSAGE_RATE_FACTOR; i++) expect(later.message(1000)).toBe(true);
    expect(later.message(1000)).toBe(false);
  });

  it('null turns the pace check off (the in-process replay tool), but not the error limit', () => {
    const guard = new MediaSocketGuard(0, null);
    for (let i = 0; i < MESSAGE_BURST * 3; i++) expect(guard.message(0)).toBe(true);
    let verdict = guard.protocolError(0);
    for (let i = 1; i <= MAX_PROTOCOL_ERRORS; i++) verdict = guard.protocolError(i);
    expect(verdict).toEqual({ close: true });
  });
});
