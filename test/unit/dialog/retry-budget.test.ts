/**
 * The Claude retry budget counts from the end of the caller's turn (issue 10): table tests on the
 * pure arithmetic, then the brain against the Anthropic fake answering 529 to everything, on a
 * clock the test drives (each backoff sleep advances it; no wall-clock timing).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../src/config/load-agent-config.js';
import type { BrainEvent, ConversationTurn } from '../../../src/dialog/brain.js';
import { ClaudeBrain } from '../../../src/dialog/claude-brain.js';
import { attemptTimeoutMs, retryDeadline, retryDelayMs, type RetryPolicy } from '../../../src/dialog/claude/retry-budget.js';
import { FlowBrain } from '../../../src/dialog/flow-brain.js';
import { AnthropicFake } from '../../../testkit/fakes/anthropic-fake.js';
import { FakeClinicTools } from '../../../testkit/fakes/fake-clinic-tools.js';
import { gatedTools } from '../../../testkit/fakes/gated-tools.js';

const POLICY: RetryPolicy = { budgetMs: 2500, firstTokenTimeoutMs: 2500, backoffBaseMs: 250, backoffMaxMs: 1000, minAttemptMs: 500 };

describe('retryDeadline', () => {
  it.each([
    ['counts from the end of the caller\'s turn while nothing was said', { startedAtMs: 1400, turnEndedAtMs: 1000, spoke: false }, 3500],
    ['counts from the request when the turn end is unknown', { startedAtMs: 1400, spoke: false }, 3900],
    ['counts from the request once words were said (a later tool round)', { startedAtMs: 5000, turnEndedAtMs: 1000, spoke: true }, 7500],
    ['a turn end after the request start (clock skew) never extends it', { startedAtMs: 1400, turnEndedAtMs: 2000, spoke: false }, 3900],
  ])('%s', (_name, start, deadline) => {
    expect(retryDeadline(POLICY, start)).toBe(deadline);
  });
});

describe('attemptTimeoutMs', () => {
  it.each([
    ['the full first-token wait with budget to spare', 0, 2500],
    ['only what is left of the budget', 1800, 700],
    ['never below the minimum, even past the deadline (the first attempt always runs)', 2400, 500],
    ['whole milliseconds', 1000.4, 1500],
  ])('%s', (_name, now, timeout) => {
    expect(attemptTimeoutMs(POLICY, 2500, now)).toBe(timeout);
  });
});

describe('retryDelayMs', () => {
  it.each([
    ['exponential backoff while the budget lasts', 100, 1, undefined, 250],
    ['second retry waits longer', 400, 2, undefined, 500],
    ['backoff is capped', 0, 5, undefined, 1000],
    ["the server's retry-after when longer", 100, 1, 800, 800],
    ['gives up when the next attempt could not get its minimum before the deadline', 1800, 1, undefined, null],
    ['gives up when retry-after runs past the deadline', 100, 1, 3000, null],
    ['exactly fits', 1750, 1, undefined, 250],
  ])('%s', (_name, now, attempt, retryAfter, delay) => {
    expect(retryDelayMs(POLICY, 2500, now, attempt, retryAfter)).toBe(delay);
  });
});

describe('claude brain: the budget on a driven clock, Claude answering 529 to everything', () => {
  const config = loadAgentConfig('config/agent.yaml');
  const NOW = new Date('2025-03-17T14:00:00Z');
  const history: ConversationTurn[] = [
    { role: 'agent', text: 'Thank you for calling. How can I help you today?' },
    { role: 'caller', text: 'what are your opening hours' },
  ];
  let fake: AnthropicFake;
  beforeEach(async () => {
    fake = await new AnthropicFake('test-key').start();
    fake.fallbackReply = { fault: { type: 'http', status: 529 } };
  });
  afterEach(() => fake.stop());

  /** A turn that ended `spentMs` before the brain started, on a clock only the brain's sleeps advance. */
  async function turn(spentMs: number) {
    let clock = 10_000;
    const sleeps: number[] = [];
    const fallbacks: { reason: string; attempts: number }[] = [];
    const brain = new ClaudeBrain({
      apiKey: 'test-key',
      baseUrl: fake.baseUrl,
      config,
      tools: gatedTools(config, new FakeClinicTools()),
      fallback: new FlowBrain({ config, tools: gatedTools(config, new FakeClinicTools()), now: () => NOW }),
      now: () => NOW,
      monotonicMs: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
        return true;
      },
      onFallback: (_sid, event) => fallbacks.push(event),
      logger: { warn: () => undefined },
    });
    const session = brain.createSession({ callSid: 'CA1', from: '+15551234567', to: '+15550142000' });
    const events: BrainEvent[] = [];
    const options = { signal: new AbortController().signal, history, turnEndedAtMs: clock - spentMs };
    for await (const event of session.turn({ type: 'speech', text: 'what are your opening hours', confidence: 0.9 }, options)) events.push(event);
    const said = events.flatMap((e) => (e.type === 'text' ? [e.text] : [])).join('');
    return { sleeps, fallbacks, said, elapsed: clock - 10_000 + spentMs };
  }

  it('a turn that starts at once retries while ~2.5 s from the turn end last, then the flow brain answers', async () => {
    const { sleeps, fallbacks, said, elapsed } = await turn(0);
    expect(sleeps).toEqual([250, 500, 1000]);
    expect(fake.requests).toHaveLength(4);
    expect(fallbacks).toMatchObject([{ attempts: 4 }]);
    expect(fallbacks[0]!.reason).toMatch(/http-529 \(budget spent\)/);
    expect(elapsed).toBeLessThanOrEqual(2500);
    expect(said).toContain(config.business.hoursText);
  });

  it('time already spent in the turn (slow recognition) shortens the retries', async () => {
    const { sleeps, fallbacks } = await turn(1200);
    expect(sleeps).toEqual([250, 500]);
    expect(fake.requests).toHaveLength(3);
    expect(fallbacks).toMatchObject([{ attempts: 3 }]);
  });

  it('a turn that is already late gets one attempt, then the fallback', async () => {
    const { sleeps, fallbacks, said } = await turn(2200);
    expect(sleeps).toEqual([]);
    expect(fake.requests).toHaveLength(1);
    expect(fallbacks).toMatchObject([{ attempts: 1 }]);
    expect(said).toContain(config.business.hoursText);
  });
});
