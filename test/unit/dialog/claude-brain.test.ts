/**
 * The Claude brain with the real Anthropic SDK against the local SSE fake: streaming, the confirm
 * gate around tools, retries, watchdogs, fallback, barge-in and prompt caching.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../src/config/load-agent-config.js';
import type { BrainEvent, BrainInput, BrainSession, ConversationTurn } from '../../../src/dialog/brain.js';
import { ClaudeBrain, type ClaudeBrainOptions, type ClaudeUsage } from '../../../src/dialog/claude-brain.js';
import { FlowBrain } from '../../../src/dialog/flow-brain.js';
import { readBackText } from '../../../src/dialog/read-back.js';
import { AnthropicFake, type FakeReply } from '../../../testkit/fakes/anthropic-fake.js';
import { ControllableTools } from '../../../testkit/fakes/controllable-tools.js';
import { FakeClinicTools } from '../../../testkit/fakes/fake-clinic-tools.js';
import { gatedTools } from '../../../testkit/fakes/gated-tools.js';

const config = loadAgentConfig('config/agent.yaml');
// Monday 17 March 2025, 10:00 in New York.
const NOW = new Date('2025-03-17T14:00:00Z');
const CALL = { callSid: 'CA1', from: '+15551234567', to: '+15550142000' };
const GREETING: ConversationTurn = { role: 'agent', text: 'Thank you for calling. How can I help you today?' };
const BOOKING = { name: 'Jordan', phone: '5551234567', date: '2025-03-18', time: '10:00' };

let fake: AnthropicFake;
beforeEach(async () => {
  fake = await new AnthropicFake('test-key').start();
});
afterEach(async () => {
  await fake.stop();
});

type SetupOptions = Partial<Omit<ClaudeBrainOptions, 'tools'>> & { tools?: ControllableTools; toolTimeoutMs?: number };

function setup({ tools = new ControllableTools(), toolTimeoutMs, ...overrides }: SetupOptions = {}) {
  const usage: ClaudeUsage[] = [];
  const fallbacks: { stage: string; from: string; reason: string; attempts: number; to: string }[] = [];
  const brain = new ClaudeBrain({
    apiKey: 'test-key',
    baseUrl: fake.baseUrl,
    config,
    tools: gatedTools(config, tools, toolTimeoutMs !== undefined ? { timeoutMs: toolTimeoutMs } : {}),
    now: () => NOW,
    firstTokenTimeoutMs: 1500,
    idleTimeoutMs: 1500,
    turnBudgetMs: 3000,
    backoffBaseMs: 10,
    backoffMaxMs: 40,
    onUsage: (_sid, u) => usage.push(u),
    onFallback: (_sid, info) => fallbacks.push(info),
    logger: { warn: () => undefined },
    ...overrides,
  });
  return { brain, session: brain.createSession(CALL), tools, usage, fallbacks };
}

const speech = (text: string): BrainInput => ({ type: 'speech', text, confidence: 0.9 });
const text = (...chunks: string[]): FakeReply => ({ blocks: [{ type: 'text', chunks }] });
const toolUse = (name: string, input: Record<string, unknown>, id?: string): FakeReply => ({
  blocks: [{ type: 'tool_use', name, input, ...(id ? { id } : {}) }],
});

async function run(session: BrainSession, input: BrainInput, history: ConversationTurn[], signal = new AbortController().signal) {
  const events: BrainEvent[] = [];
  for await (const event of session.turn(input, { signal, history })) events.push(event);
  return events;
}
const texts = (events: BrainEvent[]) => events.flatMap((e) => (e.type === 'text' ? [e.text] : []));
const spoken = (events: BrainEvent[]) => texts(events).join('').trim();
const ofType = <T extends BrainEvent['type']>(events: BrainEvent[], type: T) => events.filter((e): e is Extract<BrainEvent, { type: T }> => e.type === type);
const lastUserBlocks = (i: number) => (fake.requests[i]!.body.messages as any[]).at(-1).content as any[];

describe('claude brain: streaming', () => {
  it('passes text deltas on in order as they stream, then listens', async () => {
    const { session } = setup();
    fake.enqueue(text('Hello', ' there,', ' how can', ' I help?'));
    const events = await run(session, speech('hi'), [GREETING, { role: 'caller', text: 'hi' }]);
    expect(texts(events)).toEqual(['Hello', ' there,', ' how can', ' I help?']);
    expect(events.at(-1)).toMatchObject({ type: 'listen' });
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer test-key');
    expect(fake.requests[0]!.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(fake.requests[0]!.body).toMatchObject({ model: config.llm.model, max_tokens: config.llm.maxTokens, stream: true });
  });

  it('greets from the config without a request', async () => {
    const { session } = setup();
    const events = await run(session, { type: 'call-start' }, []);
    expect(spoken(events)).toContain(config.prompts.greeting);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('claude brain: tools through the confirm gate', () => {
  it('does not book unconfirmed values; reads back, and books after the caller says yes', async () => {
    const { session, tools } = setup();
    const readBack = readBackText(config, 'book_appointment', BOOKING);
    const h1: ConversationTurn[] = [GREETING, { role: 'caller', text: 'Book Jordan tomorrow at ten, my number is 555 123 4567' }];
    fake.enqueue(toolUse('book_appointment', BOOKING, 'toolu_1'), text('Let me read that back: ', readBack, '. Is that right?'));
    const first = await run(session, speech(h1[1]!.text), h1);

    expect(tools.ran('book_appointment')).toEqual([]);
    expect(ofType(first, 'tool-call')).toEqual([]);
    const gated = lastUserBlocks(1)[0];
    expect(gated).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_1' });
    expect(JSON.parse(gated.content)).toMatchObject({ status: 'needs-confirmation', readBack });

    const h2: ConversationTurn[] = [...h1, { role: 'agent', text: spoken(first) }, { role: 'caller', text: 'yes that is right' }];
    fake.enqueue(toolUse('book_appointment', BOOKING, 'toolu_2'), text('You are all set.'));
    const second = await run(session, speech('yes that is right'), h2);

    expect(ofType(second, 'slots')).toEqual([{ type: 'slots', slots: BOOKING }]);
    expect(ofType(second, 'tool-call')).toMatchObject([{ call: { name: 'book_appointment', args: BOOKING, ok: true } }]);
    expect(tools.ran('book_appointment')).toHaveLength(1);
    expect(spoken(second)).toBe('You are all set.');
    // The earlier exchange is kept with its result, between the turns the caller heard.
    const messages = fake.requests[2]!.body.messages as any[];
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(messages[3].content[0]).toMatchObject({ type: 'tool_use', id: 'toolu_1', name: 'book_appointment' });
    expect(messages[4].content[0]).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_1' });
    expect(messages[5].content).toEqual([{ type: 'text', text: spoken(first) }]);
  });

  it('a yes to a read-back that was cut by a barge-in confirms nothing', async () => {
    const { session, tools } = setup();
    const readBack = readBackText(config, 'book_appointment', BOOKING);
    const h1: ConversationTurn[] = [GREETING, { role: 'caller', text: 'book Jordan tomorrow at ten' }];
    fake.enqueue(toolUse('book_appointment', BOOKING), text('Let me read that back: ', readBack, '. Is that right?'));
    await run(session, speech(h1[1]!.text), h1);
    session.interrupted?.('Let me read that back: an appointment for');

    const h2: ConversationTurn[] = [...h1, { role: 'agent', text: 'Let me read that back: an appointment for' }, { role: 'caller', text: 'yes' }];
    fake.enqueue(toolUse('book_appointment', BOOKING), text('Let me read it again.'));
    const second = await run(session, speech('yes'), h2);
    expect(ofType(second, 'slots')).toEqual([]);
    expect(tools.ran('book_appointment')).toEqual([]);
    expect(JSON.parse(lastUserBlocks(3)[0].content)).toMatchObject({ status: 'needs-confirmation' });
  });

  it('cancel reads back the booking found earlier; an unknown booking id is refused', async () => {
    const clinic = new FakeClinicTools({ bookings: [{ name: 'Jordan', phone: '5551234567', date: '2025-03-18', time: '10:00', service: null }] });
    const { session, tools } = setup({ tools: new ControllableTools(clinic) });
    fake.enqueue(
      toolUse('cancel_appointment', { bookingId: 'b1' }),
      toolUse('find_bookings', { phone: '5551234567' }),
      toolUse('cancel_appointment', { bookingId: 'b1' }),
      text('Shall I cancel it?'),
    );
    await run(session, speech('cancel my appointment'), [GREETING, { role: 'caller', text: 'cancel my appointment' }]);
    expect(JSON.parse(lastUserBlocks(1)[0].content)).toMatchObject({ error: { code: 'unknown-booking' } });
    const gated = JSON.parse(lastUserBlocks(3)[0].content);
    expect(gated).toMatchObject({ status: 'needs-confirmation', readBack: readBackText(config, 'cancel_appointment', {}, { date: 'Tuesday, March eighteenth', time: 'ten a.m.' }) });
    expect(tools.ran('cancel_appointment')).toEqual([]);
  });

  it('runs parallel tool calls concurrently and answers each', async () => {
    const { session, tools } = setup({ fillerAfterMs: 5000 });
    tools.delays.check_availability = 150;
    fake.enqueue(
      {
        blocks: [
          { type: 'tool_use', id: 'toolu_a', name: 'check_availability', input: { date: '2025-03-18' } },
          { type: 'tool_use', id: 'toolu_b', name: 'check_availability', input: { date: '2025-03-19' } },
        ],
      },
      text('Both days have times.'),
    );
    const events = await run(session, speech('tuesday or wednesday?'), [GREETING, { role: 'caller', text: 'tuesday or wednesday?' }]);
    const [a, b] = tools.log;
    expect(b!.startSeq).toBeLessThan(a!.endSeq!);
    expect(ofType(events, 'tool-call').map((e) => e.call.args)).toEqual([{ date: '2025-03-18' }, { date: '2025-03-19' }]);
    expect(lastUserBlocks(1).map((r) => r.tool_use_id)).toEqual(['toolu_a', 'toolu_b']);
  });

  it('says one filler when a tool is slow', async () => {
    const { session, tools } = setup({ fillerAfterMs: 30 });
    tools.delays.check_availability = 300;
    fake.enqueue(toolUse('check_availability', { date: '2025-03-18' }), text('We have ten a.m.'));
    const events = await run(session, speech('tomorrow?'), [GREETING, { role: 'caller', text: 'tomorrow?' }]);
    const filler = events.findIndex((e) => e.type === 'text' && config.offline.fillers.includes(e.text.trim()));
    expect(filler).toBeGreaterThanOrEqual(0);
    expect(filler).toBeLessThan(events.findIndex((e) => e.type === 'tool-call'));
    expect(spoken(events)).toMatch(/\. We have ten a\.m\.$/);
  });

  it('a tool that times out gets a spoken fallback and an error result', async () => {
    const { session, tools } = setup({ toolTimeoutMs: 100, fillerAfterMs: 5000 });
    tools.delays.find_bookings = 'hang';
    fake.enqueue(toolUse('find_bookings', { phone: '5551234567' }), text('Shall I try again?'));
    const events = await run(session, speech('find my booking'), [GREETING, { role: 'caller', text: 'find my booking' }]);
    expect(spoken(events)).toContain(config.offline.messages.toolFailed);
    expect(ofType(events, 'tool-call')).toMatchObject([{ call: { name: 'find_bookings', ok: false, result: { code: 'timeout' } } }]);
    expect(lastUserBlocks(1)[0]).toMatchObject({ type: 'tool_result', is_error: true });
    expect(tools.log[0]!.aborted).toBe(true);
  });

  it('end_call hangs up after the goodbye; a transfer hands over', async () => {
    const { session } = setup();
    fake.enqueue({ blocks: [{ type: 'text', chunks: ['Goodbye!'] }, { type: 'tool_use', name: 'end_call', input: {} }] });
    const events = await run(session, speech('bye'), [GREETING, { role: 'caller', text: 'bye' }]);
    expect(texts(events)).toEqual(['Goodbye!']);
    expect(events.at(-1)).toMatchObject({ type: 'end-call' });
    expect(fake.requests).toHaveLength(1);

    const other = setup().session;
    fake.enqueue(toolUse('transfer_to_person', { reason: 'asked' }));
    const transfer = await run(other, speech('a person please'), [GREETING, { role: 'caller', text: 'a person please' }]);
    expect(spoken(transfer)).toBe(config.offline.messages.transferring);
    expect(transfer.at(-1)).toEqual({ type: 'transfer', reason: 'caller-request' });
  });
});

describe('claude brain: staff hand-off', () => {
  it('a hand-off request from staff reaches Claude as a note and runs transfer_to_person', async () => {
    const { session } = setup();
    fake.enqueue(toolUse('transfer_to_person', { reason: 'staff asked', topic: 'general' }));
    const events = await run(session, { type: 'handoff-request' }, [GREETING]);
    expect(lastUserBlocks(0)).toEqual([expect.objectContaining({ type: 'text', text: expect.stringMatching(/member of staff .* transfer_to_person/) })]);
    expect(events.at(-1)).toEqual({ type: 'transfer', reason: 'caller-request' });
  });
});

describe('claude brain: failures', () => {
  const fallbackBrain = () => new FlowBrain({ config, tools: gatedTools(config, new FakeClinicTools()), now: () => NOW });
  const history: ConversationTurn[] = [GREETING, { role: 'caller', text: 'what are your opening hours' }];

  it('stops at once on abort and closes the connection', async () => {
    const { session } = setup();
    fake.enqueue({ ...text(...Array.from({ length: 30 }, (_, i) => `word${i} `)), chunkDelayMs: 30 });
    const controller = new AbortController();
    const after: BrainEvent[] = [];
    for await (const event of session.turn(speech('hi'), { signal: controller.signal, history })) {
      if (controller.signal.aborted) after.push(event);
      controller.abort();
    }
    expect(after).toEqual([]);
    await fake.requests[0]!.closed;
    expect(fake.requests[0]!.clientClosedEarly).toBe(true);
  });

  it('retries a 429 within the budget', async () => {
    const { session, fallbacks } = setup();
    fake.enqueue({ fault: { type: 'http', status: 429, retryAfterSeconds: 0 } }, text('Hello again.'));
    const events = await run(session, speech('hi'), history);
    expect(spoken(events)).toBe('Hello again.');
    expect(fake.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(fallbacks).toEqual([]);
  });

  it('hands the turn to the fallback brain when 529s outlast the budget', async () => {
    const { session, fallbacks } = setup({ fallback: fallbackBrain(), turnBudgetMs: 1200 });
    fake.fallbackReply = { fault: { type: 'http', status: 529 } };
    const events = await run(session, speech('what are your opening hours'), history);
    expect(spoken(events)).toContain(config.business.hoursText);
    expect(fake.requests.length).toBeGreaterThan(1);
    expect(fallbacks).toMatchObject([{ to: 'flow' }]);
    expect(fallbacks[0]!.reason).toContain('http-529');
  });

  it('a stall before the first token trips the watchdog and is retried', async () => {
    const { session } = setup({ firstTokenTimeoutMs: 200 });
    fake.enqueue({ ...text('never'), fault: { type: 'stall', afterChunks: 0 } }, { ...text('Back again.') });
    const events = await run(session, speech('hi'), history);
    expect(spoken(events)).toBe('Back again.');
    await fake.requests[0]!.closed;
    expect(fake.requests[0]!.clientClosedEarly).toBe(true);
  });

  it('a stall or an error event after words were spoken goes to the fallback', async () => {
    const stalled = setup({ fallback: fallbackBrain(), idleTimeoutMs: 200 });
    fake.enqueue({ ...text('Let me', ' see', ' now.'), fault: { type: 'stall', afterChunks: 1 } });
    const a = await run(stalled.session, speech('what are your opening hours'), history);
    expect(texts(a)[0]).toBe('Let me');
    expect(spoken(a)).toContain(config.business.hoursText);
    expect(stalled.fallbacks[0]!.reason).toBe('stall-idle');

    const errored = setup({ fallback: fallbackBrain() });
    fake.enqueue({ ...text('Sure,', ' one', ' moment.'), fault: { type: 'error-event', afterChunks: 1 } });
    const b = await run(errored.session, speech('what are your opening hours'), history);
    expect(texts(b)[0]).toBe('Sure,');
    expect(spoken(b)).toContain(config.business.hoursText);
    expect(errored.fallbacks[0]!.reason).toBe('stream-overloaded_error');
  });

  it('a dropped connection before any word is retried', async () => {
    const { session } = setup();
    fake.enqueue({ ...text('x'), fault: { type: 'drop', afterChunks: 0 } }, text('Recovered.'));
    expect(spoken(await run(session, speech('hi'), history))).toBe('Recovered.');
  });

  it('without a fallback says the apology and ends the call', async () => {
    const { session } = setup();
    fake.enqueue({ fault: { type: 'http', status: 400 } });
    const events = await run(session, speech('hi'), history);
    expect(spoken(events)).toBe(config.prompts.apology);
    expect(events.at(-1)).toMatchObject({ type: 'end-call' });
  });
});

describe('claude brain: history and caching', () => {
  it('after a barge-in, only the heard part of the reply is sent back', async () => {
    const { session } = setup();
    fake.enqueue(text('First sentence. ', 'Second sentence.'));
    await run(session, speech('hi'), [GREETING, { role: 'caller', text: 'hi' }]);
    session.interrupted?.('First sentence.');
    fake.enqueue(text('Sure.'));
    const h2: ConversationTurn[] = [GREETING, { role: 'caller', text: 'hi' }, { role: 'agent', text: 'First sentence.' }, { role: 'caller', text: 'wait' }];
    await run(session, speech('wait'), h2);
    const messages = fake.requests[1]!.body.messages as any[];
    expect(messages.at(-2)).toMatchObject({ role: 'assistant', content: [{ type: 'text', text: 'First sentence.' }] });
    expect(JSON.stringify(messages)).not.toContain('Second sentence');

    // Cut before the first word: nothing heard, and no empty text block (the API would answer 400).
    fake.enqueue(text('Okay.'));
    const h3: ConversationTurn[] = [...h2, { role: 'agent', text: '' }, { role: 'caller', text: 'hello?' }];
    expect(spoken(await run(session, speech('hello?'), h3))).toBe('Okay.');
    expect(fake.requests[2]!.status).toBe(200);
  });

  it('marks tools, system and the conversation for caching and reports usage', async () => {
    const { session, usage } = setup();
    fake.enqueue({ ...text('Hi.'), usage: { input_tokens: 20, output_tokens: 5, cache_read_input_tokens: 1234, cache_creation_input_tokens: 56 } });
    await run(session, speech('hi'), [GREETING, { role: 'caller', text: 'hi' }]);
    const body = fake.requests[0]!.body;
    expect(body.tools.at(-1)).toMatchObject({ name: 'end_call', cache_control: { type: 'ephemeral' } });
    expect(body.tools.map((t: any) => t.name)).toEqual([...config.tools.enabled, 'end_call']);
    const book = body.tools.find((t: any) => t.name === 'book_appointment');
    expect(book.input_schema).toMatchObject({ type: 'object', required: ['name', 'phone', 'date', 'time'], additionalProperties: false });
    expect(book.input_schema.$schema).toBeUndefined();
    expect(body.system[0]).toMatchObject({ type: 'text', cache_control: { type: 'ephemeral' } });
    expect(body.system[0].text).toContain(config.business.address);
    expect(body.system[1].text).toContain('2025-03-17');
    expect(body.messages.at(-1).content.at(-1).cache_control).toEqual({ type: 'ephemeral' });
    expect(usage).toEqual([{ model: config.llm.model, inputTokens: 20, outputTokens: 5, cacheReadInputTokens: 1234, cacheCreationInputTokens: 56 }]);
  });
});
