import { describe, expect, it } from 'vitest';
import { answerConfirmation, EMPTY_GATE, needsConfirmationResult, readBackHeard, requestToolRun } from '../../../src/dialog/confirm-gate.js';

const CRITICAL = ['name', 'phone', 'date', 'time'];
const ARGS = { name: 'Sam', phone: '5551234567', date: '2025-03-18', time: '15:00', service: 'checkup' };
const readBack = (a: Readonly<Record<string, unknown>>) => `Sam on ${String(a.date)} at ${String(a.time)}`;

describe('confirm gate', () => {
  it('refuses unconfirmed critical args and returns the read-back', () => {
    const { state, decision } = requestToolRun(EMPTY_GATE, 'book_appointment', ARGS, CRITICAL, readBack);
    expect(decision).toEqual({ run: false, unconfirmed: CRITICAL, readBack: 'Sam on 2025-03-18 at 15:00' });
    expect(state.pending?.tool).toBe('book_appointment');
    if (!decision.run) expect(needsConfirmationResult(decision).status).toBe('needs-confirmation');
  });

  it('runs after a yes to exactly those values', () => {
    const asked = requestToolRun(EMPTY_GATE, 'book_appointment', ARGS, CRITICAL, readBack).state;
    const { state, outcome } = answerConfirmation(asked, { kind: 'yes' });
    expect(outcome.kind).toBe('confirmed');
    expect(requestToolRun(state, 'book_appointment', ARGS, CRITICAL, readBack).decision).toEqual({ run: true });
    // A changed value is unconfirmed again; the others stay confirmed.
    const changed = requestToolRun(state, 'book_appointment', { ...ARGS, time: '16:00' }, CRITICAL, readBack).decision;
    expect(changed).toMatchObject({ run: false, unconfirmed: ['time'] });
  });

  it('a correction replaces only the named critical slot', () => {
    const asked = requestToolRun(EMPTY_GATE, 'book_appointment', ARGS, CRITICAL, readBack).state;
    const { state, outcome } = answerConfirmation(asked, { kind: 'no', corrections: { time: '16:00', bogus: 'x' } });
    expect(outcome).toEqual({ kind: 'corrected', corrections: { time: '16:00' } });
    expect(state.pending).toBeNull();
    expect(answerConfirmation(asked, { kind: 'no' }).outcome).toEqual({ kind: 'rejected' });
  });

  it('does not accept a yes to a read-back cut off by barge-in', () => {
    const asked = requestToolRun(EMPTY_GATE, 'book_appointment', ARGS, CRITICAL, readBack).state;
    const cut = readBackHeard(asked, 'Let me read that back: Sam on 2025');
    expect(answerConfirmation(cut, { kind: 'yes' }).outcome).toEqual({ kind: 'not-heard', readBack: 'Sam on 2025-03-18 at 15:00' });
    const full = readBackHeard(asked, 'Let me read that back: Sam on 2025-03-18 at 15:00. Is that');
    expect(answerConfirmation(full, { kind: 'yes' }).outcome.kind).toBe('confirmed');
  });

  it('a yes with nothing pending confirms nothing', () => {
    expect(answerConfirmation(EMPTY_GATE, { kind: 'yes' }).outcome).toEqual({ kind: 'nothing-pending' });
  });
});
