/** Routing (topics × hours) and the whisper summary (state and Claude). The store: test/integration/transfer-store.test.ts. */
import { describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../../src/config/agent-schema.js';
import { transferSchema } from '../../../src/config/transfer-schema.js';
import type { CallRecord } from '../../../src/store/call-record.js';
import type { ConversationSnapshot } from '../../../src/store/transfer-store.js';
import { calendarConfigSchema } from '../../../src/config/calendar-config.js';
import { chooseTarget, withinHours } from '../../../src/transfer/routing.js';
import { stateSummary, Summarizer } from '../../../src/transfer/summary.js';
import { AnthropicFake } from '../../../testkit/fakes/anthropic-fake.js';

const schedule = calendarConfigSchema.parse({}); // Mon–Thu 9–17, Fri 9–15, New York
const at = (iso: string) => Date.parse(iso);
const MONDAY_10 = at('2025-03-17T14:00:00Z');
const MONDAY_1730 = at('2025-03-17T21:30:00Z');
const SATURDAY_10 = at('2025-03-22T14:00:00Z');

describe('routing', () => {
  it.each([
    ['business', MONDAY_10, true],
    ['business', MONDAY_1730, false],
    ['business', SATURDAY_10, false],
    ['always', SATURDAY_10, true],
  ] as const)('hours %s at %s → %s', (hours, when, open) => {
    expect(withinHours(hours, schedule, when)).toBe(open);
  });

  const config = transferSchema.parse({
    targets: [
      { label: 'bookings', number: '+15550002000', topics: ['book', 'reschedule'] },
      { label: 'evening line', number: '+15550003000', hours: { monday: { open: '17:00', close: '20:00' } } },
      { label: 'front desk', number: '+15550001000' },
    ],
  });
  it.each([
    ['book', MONDAY_10, 'bookings'],
    ['cancel', MONDAY_10, 'front desk'],
    ['general', MONDAY_1730, 'evening line'],
    ['book', MONDAY_1730, 'evening line'],
  ] as const)('topic %s at %s → %s', (topic, when, label) => {
    expect(chooseTarget(config, schedule, topic, when)).toEqual({ ok: true, target: expect.objectContaining({ label }) });
  });

  it('says why nobody can take it: nobody for the topic, or nobody now', () => {
    expect(chooseTarget(transferSchema.parse({}), schedule, 'general', MONDAY_10)).toEqual({ ok: false, reason: 'no-target' });
    expect(chooseTarget(config, schedule, 'general', SATURDAY_10)).toEqual({ ok: false, reason: 'outside-hours' });
    // TRANSFER_NUMBER stands in when the config lists nobody.
    expect(chooseTarget(transferSchema.parse({}), schedule, 'book', MONDAY_10, '+15559990000')).toMatchObject({ ok: true, target: { number: '+15559990000' } });
  });
});

describe('whisper summary', () => {
  const agent = agentConfigSchema.parse({ business: { name: 'Maple Street Clinic' } });
  const snapshot: ConversationSnapshot = {
    history: [
      { role: 'agent', text: 'What would you like to do?' },
      { role: 'caller', text: 'I need to move my appointment, can I talk to someone' },
    ],
    brainState: null,
    record: { from: '+15551234567', slots: { name: 'Sarah', date: '2025-03-18', time: '15:00' } } as unknown as CallRecord,
  };

  it('from the dialog state: who, what, what is confirmed, their words', () => {
    expect(stateSummary(snapshot, 'reschedule', agent)).toBe(
      'Sarah, calling from five five five, one two three, four five six seven, wants to move an appointment. ' +
        'Confirmed so far: the day Tuesday, March eighteenth, the time three p.m. They said: I need to move my appointment, can I talk to someone.',
    );
  });

  it('from Claude when configured, and from the state when Claude fails', async () => {
    const fake = await new AnthropicFake().start();
    try {
      fake.enqueue({ blocks: [{ type: 'text', chunks: ['Sarah wants to move ', 'her Tuesday appointment.'] }] });
      const summarizer = new Summarizer({ config: agent, anthropic: { apiKey: fake.apiKey, baseUrl: fake.baseUrl } });
      expect(await summarizer.summarize(snapshot, 'reschedule', new AbortController().signal)).toEqual({ text: 'Sarah wants to move her Tuesday appointment.', source: 'claude' });
      fake.enqueue({ fault: { type: 'http', status: 529 } });
      expect((await summarizer.summarize(snapshot, 'reschedule', new AbortController().signal)).source).toBe('dialog-state');
    } finally {
      await fake.stop();
    }
  });
});
