import { describe, expect, it } from 'vitest';
import { parseAgentConfig } from '../../../src/config/load-agent-config.js';
import { answerConfirmation, EMPTY_GATE, needsConfirmationResult, requestToolRun } from '../../../src/dialog/confirm-gate.js';
import { criticalArgsFor, readBackText } from '../../../src/dialog/read-back.js';

const config = parseAgentConfig({}, 'defaults');
const ARGS = { name: 'Sam', phone: '5551234567', date: '2025-03-18', time: '15:30', service: 'checkup' };

describe('read-back and critical args (as the LLM brain uses them)', () => {
  it('gates only state-changing tools, and only critical slots', () => {
    expect(criticalArgsFor(config, 'book_appointment', ARGS)).toEqual(['name', 'phone', 'date', 'time']);
    expect(criticalArgsFor(config, 'check_availability', { date: '2025-03-18' })).toEqual([]);
    expect(criticalArgsFor(config, 'cancel_appointment', { bookingId: 'b1' })).toEqual(['bookingId']);
  });

  it('formats each slot by type', () => {
    expect(readBackText(config, 'book_appointment', ARGS)).toBe(
      'an appointment for Sam on Tuesday, March eighteenth at three thirty p.m., with the phone number five five five, one two three, four five six seven',
    );
  });

  it('an LLM tool call with unconfirmed args gets a needs-confirmation result, then runs after yes', () => {
    const critical = criticalArgsFor(config, 'book_appointment', ARGS);
    const first = requestToolRun(EMPTY_GATE, 'book_appointment', ARGS, critical, (a) => readBackText(config, 'book_appointment', a));
    expect(first.decision.run).toBe(false);
    if (!first.decision.run) expect(needsConfirmationResult(first.decision).readBack).toContain('three thirty p.m.');
    const yes = answerConfirmation(first.state, { kind: 'yes' });
    expect(requestToolRun(yes.state, 'book_appointment', ARGS, critical, () => '').decision).toEqual({ run: true });
  });
});
