/**
 * The Claude brain: each caller turn is one or more streamed Messages API requests (one per tool
 * round), with text deltas passed on as they arrive so TTS starts on the first clause.
 *
 *   const brain = new ClaudeBrain({ apiKey, baseUrl, config, tools: (call) => gatedInvokerFor(call),
 *                                   fallback: flowBrain, onUsage, onFallback });
 *
 * Owns its retry budget (the SDK's retries are off): 429/529/5xx, dropped connections and stalls
 * before the first word are retried with backoff while the turn budget lasts, counted from the end
 * of the caller's turn (claude/retry-budget.ts); after that (or on a non-retryable error) the turn
 * is handed to the fallback brain, or the apology is said. The caller never gets silence. Tools run only through the call's gated invoker (tool-invoker.ts): the
 * confirm gate, the runner's timeout and the call-log record live there, not here.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { ContentBlockParam, MessageCreateParamsBase } from '@anthropic-ai/sdk/resources/messages/messages';
import type { AgentConfig } from '../config/agent-schema.js';
import type { FallbackEvent } from '../observability/fallback.js';
import type { Brain, BrainEvent, BrainInput, BrainSession, BrainTurnOptions, CallContext } from './brain.js';
import { ClaudeTurnFailedError, classifyFailure } from './claude/errors.js';
import { buildMessages, buildSystem, buildTools, type JournalEntry, type JournalItem } from './claude/request.js';
import { attemptTimeoutMs, retryDeadline, retryDelayMs, type RequestStart, type RetryPolicy } from './claude/retry-budget.js';
import { streamAttempt, type AttemptResult, type ClaudeUsage } from './claude/stream-attempt.js';
import { runToolRound } from './claude/tool-round.js';
import { sleepUnlessAborted } from '../util/abort.js';
import { todayIn } from './slots/dates.js';
import { callerIdDigits } from './slots/digits.js';
import { parseYesNo } from './slots/yes-no.js';
import type { GatedToolInvoker, ToolInvokerFactory } from './tool-invoker.js';

export type { ClaudeUsage } from './claude/stream-attempt.js';

export interface ClaudeLogger {
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

export interface ClaudeBrainOptions {
  apiKey: string;
  /** ANTHROPIC_BASE_URL override (a proxy, or the local fake in tests). */
  baseUrl?: string | undefined;
  config: AgentConfig;
  /** Makes each call session's gated invoker: the only way this brain runs tools. */
  tools: ToolInvokerFactory;
  /** Takes a turn Claude could not answer (the offline flow brain). */
  fallback?: Brain | undefined;
  /** Until the first content event, ms. */
  firstTokenTimeoutMs?: number;
  /** Longest silence between stream events once content flows, ms. */
  idleTimeoutMs?: number;
  /**
   * Time within which a model request may be retried, ms: counted from the end of the caller's
   * turn until the brain has said something, from the request's start after that. The default
   * (2.5 s) leaves the fallback brain and the voice ~0.5 s to answer within 3 s of the turn's end.
   */
  turnBudgetMs?: number;
  /** Say a filler when tools are not back after this long, ms. */
  fillerAfterMs?: number;
  /** Backoff before retry n is `min(backoffMaxMs, backoffBaseMs * 2^(n-1))`, or the server's retry-after if longer. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Tool rounds per turn before the brain stops asking (a loop guard). */
  maxToolRounds?: number;
  /** Added after the configured greeting when it asks nothing. */
  openingQuestion?: string;
  /** Wall clock ("today" in the system prompt). */
  now?: () => Date;
  /** Monotonic clock, ms (budgets, tool timings); the clock of `BrainTurnOptions.turnEndedAtMs`. */
  monotonicMs?: () => number;
  /** Waits out a retry backoff; false when the signal aborted first. Injected with `monotonicMs` to drive time in tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<boolean>;
  logger?: ClaudeLogger;
  /** Per model request; includes prompt-cache reads and writes. */
  onUsage?: (callSid: string, usage: ClaudeUsage & { model: string }) => void;
  /** A turn went to the fallback brain (or the apology): stage `llm`, from this brain's name. */
  onFallback?: (callSid: string, event: FallbackEvent & { attempts: number }) => void;
}

export class ClaudeBrain implements Brain {
  readonly name: string;
  private readonly client: Anthropic;

  constructor(private readonly options: ClaudeBrainOptions) {
    this.name = `claude:${options.config.llm.model}`;
    // Everything explicit so the SDK reads no environment; retries are ours, per turn.
    this.client = new Anthropic({
      apiKey: options.apiKey,
      baseURL: options.baseUrl ?? 'https://api.anthropic.com',
      maxRetries: 0,
      logLevel: 'off',
    });
  }

  createSession(context: CallContext): BrainSession {
    return new ClaudeSession(this.client, this.options, context, this.options.tools(context), this.name);
  }
}

const DEFAULTS = {
  firstTokenTimeoutMs: 2500,
  idleTimeoutMs: 2000,
  turnBudgetMs: 2500,
  fillerAfterMs: 300,
  backoffBaseMs: 250,
  backoffMaxMs: 1000,
  maxToolRounds: 5,
  openingQuestion: 'How can I help you today?',
};

/** A retry needs at least this much of the budget left to be worth starting, ms. */
const MIN_ATTEMPT_MS = 500;

class ClaudeSession implements BrainSession {
  private readonly opts: typeof DEFAULTS & ClaudeBrainOptions;
  private readonly now: () => Date;
  private readonly mono: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<boolean>;
  /** Tool exchanges and system notes, placed between the heard turns (see claude/request.ts). */
  private readonly journal: JournalEntry[] = [];
  /** How caller entries of the history are written for Claude (keypad entries), by index. */
  private readonly render = new Map<number, string>();
  private readonly fallbackSession: BrainSession | null;
  private readonly tools;
  private readonly system;
  private lastTurnBy: 'claude' | 'fallback' = 'claude';
  private turns = 0;
  private done = false;

  constructor(
    private readonly client: Anthropic,
    options: ClaudeBrainOptions,
    private readonly context: CallContext,
    private readonly invoker: GatedToolInvoker,
    private readonly brainName: string,
  ) {
    this.opts = { ...DEFAULTS, ...definedOnly(options) } as typeof DEFAULTS & ClaudeBrainOptions;
    this.now = options.now ?? (() => new Date());
    this.mono = options.monotonicMs ?? (() => performance.now());
    this.sleep = options.sleep ?? sleepUnlessAborted;
    this.fallbackSession = options.fallback?.createSession(context) ?? null;
    this.tools = buildTools(options.config);
    const today = todayIn(options.config.business.schedule.timezone, this.now());
    const weekday = new Date(`${today}T12:00:00Z`).toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' });
    this.system = buildSystem(options.config, { today, weekday, callerId: callerIdDigits(context.from) });
  }

  interrupted(heardText: string): void {
    // The history the session passes already holds only `heardText`; the journal holds no reply
    // text, so it agrees. The gate must learn whether a read-back was cut.
    this.invoker.heard(heardText);
    if (this.lastTurnBy === 'fallback') this.fallbackSession?.interrupted?.(heardText);
  }

  async *turn(input: BrainInput, options: BrainTurnOptions): AsyncIterable<BrainEvent> {
    if (this.done) return;
    const { signal, history } = options;
    this.turns++;
    this.lastTurnBy = 'claude';
    if (input.type === 'call-start') {
      const greeting = this.opts.config.prompts.greeting;
      yield { type: 'text', text: greeting };
      if (!greeting.includes('?')) yield { type: 'text', text: ` ${this.opts.openingQuestion}` };
      yield this.listen();
      return;
    }
    const entry: JournalEntry = { at: history.length, items: [] };
    this.journal.push(entry);
    this.noteInput(input, history, entry);
    const confirmed = this.answerGate(input);
    if (confirmed) yield confirmed;

    const spacer = new Spacer();
    try {
      const outcome = yield* this.converse(entry, options, spacer);
      if (outcome === 'aborted' || signal.aborted) return;
      if (outcome === 'exit') return;
    } catch (error) {
      if (signal.aborted) return;
      const failure = error instanceof ClaudeTurnFailedError ? error : new ClaudeTurnFailedError('internal', 0, { cause: error });
      yield* this.fallBack(failure, input, options, spacer);
      return;
    }
    yield this.listen();
  }

  /** Request → stream text → run tools → request again, until Claude ends its turn. */
  private async *converse(entry: JournalEntry, { signal, history, turnEndedAtMs }: BrainTurnOptions, spacer: Spacer): AsyncGenerator<BrainEvent, 'done' | 'exit' | 'aborted'> {
    const config = this.opts.config;
    // This turn's items as Claude wrote them (with the text before a tool call); the journal keeps
    // them without that text, because the heard version of it comes back through the history.
    const live: JournalItem[] = [...entry.items];
    let fillerAllowed = true;
    const speak = (text: string) => spacer.next(text);

    for (let round = 0; round < this.opts.maxToolRounds; round++) {
      const journal = this.journal.map((e) => (e === entry ? { at: e.at, items: live } : e));
      const params: MessageCreateParamsBase = {
        model: config.llm.model,
        max_tokens: config.llm.maxTokens,
        system: this.system,
        tools: [...this.tools], // the list is shared between calls (frozen); the SDK wants its own array
        messages: buildMessages(history, journal, this.render),
      };
      const start = { startedAtMs: this.mono(), turnEndedAtMs, spoke: spacer.spoke };
      const result: AttemptResult | null = yield* relay(this.request(params, signal, start), speak);
      if (!result) return 'aborted';
      this.opts.onUsage?.(this.context.callSid, { model: config.llm.model, ...result.usage });
      if (result.stopReason !== 'tool_use' || result.toolUses.length === 0) return 'done';

      const toolUses: ContentBlockParam[] = result.toolUses.map((u) => ({ type: 'tool_use', id: u.id, name: u.name, input: u.input }));
      const round$ = runToolRound(
        {
          config,
          tools: this.invoker,
          signal,
          fillerAfterMs: this.opts.fillerAfterMs,
          fillerAllowed: fillerAllowed && result.text.trim() === '',
          fillerIndex: this.turns,
        },
        result.toolUses,
      );
      const tools = yield* relay(round$, (event) => (event.type === 'text' ? speak(event.text) : event));
      if (tools.saidFiller) fillerAllowed = false;
      // Both halves at once: a tool_use must never be stored without its tool_result.
      const results: JournalItem = { role: 'user', content: tools.results };
      entry.items.push({ role: 'assistant', content: toolUses }, results);
      live.push({ role: 'assistant', content: [...(result.text.trim() ? [{ type: 'text' as const, text: result.text }] : []), ...toolUses] }, results);
      if (signal.aborted) return 'aborted';

      if (tools.transferred) {
        if (!spacer.spoke) yield speak(config.offline.messages.transferring);
        this.done = true;
        yield { type: 'transfer', reason: 'caller-request' };
        return 'exit';
      }
      if (tools.endCall !== null) {
        if (!spacer.spoke) yield speak(config.prompts.goodbye);
        this.done = true;
        yield { type: 'end-call', reason: tools.endCall };
        return 'exit';
      }
    }
    this.opts.logger?.warn({ callSid: this.context.callSid, rounds: this.opts.maxToolRounds }, 'claude: tool round limit reached');
    return 'done';
  }

  /**
   * One model request with retries inside the budget. Yields text; returns the message, or null
   * when the caller's signal aborted. Throws ClaudeTurnFailedError when it gives up.
   */
  private async *request(params: MessageCreateParamsBase, signal: AbortSignal, start: RequestStart): AsyncGenerator<string, AttemptResult | null> {
    const policy: RetryPolicy = {
      budgetMs: this.opts.turnBudgetMs,
      firstTokenTimeoutMs: this.opts.firstTokenTimeoutMs,
      backoffBaseMs: this.opts.backoffBaseMs,
      backoffMaxMs: this.opts.backoffMaxMs,
      minAttemptMs: MIN_ATTEMPT_MS,
    };
    const deadline = retryDeadline(policy, start);
    for (let attempt = 1; ; attempt++) {
      // A retry gets only what is left of the budget to show its first token.
      const firstTokenMs = attemptTimeoutMs(policy, deadline, this.mono());
      let spoke = false;
      const stream = streamAttempt(this.client, params, {
        signal,
        firstTokenTimeoutMs: firstTokenMs,
        idleTimeoutMs: this.opts.idleTimeoutMs,
        headersTimeoutMs: firstTokenMs,
      });
      try {
        for (;;) {
          const next = await stream.next();
          if (next.done) return next.value;
          spoke = true;
          yield next.value.text;
        }
      } catch (error) {
        const failure = classifyFailure(error, signal);
        if (failure.kind === 'aborted') return null;
        this.opts.logger?.warn({ callSid: this.context.callSid, attempt, reason: failure.reason, err: error }, 'claude request failed');
        // Once words were spoken a retry would say them twice: only the fallback can continue.
        if (failure.kind === 'final' || spoke) throw new ClaudeTurnFailedError(failure.reason, attempt, { cause: error });
        const delay = retryDelayMs(policy, deadline, this.mono(), attempt, failure.retryAfterMs);
        if (delay === null) throw new ClaudeTurnFailedError(`${failure.reason} (budget spent)`, attempt, { cause: error });
        if (!(await this.sleep(delay, signal))) return null;
      } finally {
        // Reached on break-out too (barge-in): closes the HTTP stream.
        await stream.return(undefined as never).catch(() => undefined);
      }
    }
  }

  private async *fallBack(failure: ClaudeTurnFailedError, input: BrainInput, options: BrainTurnOptions, spacer: Spacer): AsyncGenerator<BrainEvent> {
    const to = this.fallbackSession ? (this.opts.fallback?.name ?? 'fallback') : 'apology';
    this.opts.logger?.warn({ callSid: this.context.callSid, reason: failure.reason, attempts: failure.attempts, to }, 'claude turn failed; falling back');
    this.opts.onFallback?.(this.context.callSid, { stage: 'llm', from: this.brainName, to, reason: failure.reason, attempts: failure.attempts });
    if (this.fallbackSession) {
      this.lastTurnBy = 'fallback';
      for await (const event of this.fallbackSession.turn(input, options)) yield event.type === 'text' ? spacer.next(event.text) : event;
      return;
    }
    yield spacer.next(this.opts.config.prompts.apology);
    this.done = true;
    yield { type: 'end-call', reason: 'llm-unavailable' };
  }

  /** How this turn's input reaches Claude when the history does not already say it. */
  private noteInput(input: BrainInput, history: BrainTurnOptions['history'], entry: JournalEntry): void {
    const last = history[history.length - 1];
    const note = (text: string) => entry.items.push({ role: 'user', content: [{ type: 'text', text }] });
    switch (input.type) {
      case 'speech':
        if (!(last?.role === 'caller' && last.text === input.text)) note(input.text);
        break;
      case 'dtmf': {
        const text = `[The caller pressed on the keypad: ${input.digits}]`;
        if (last?.role === 'caller' && last.text === input.digits) this.render.set(history.length - 1, text);
        else note(text);
        break;
      }
      case 'no-input':
        note('[The caller has said nothing for a while.]');
        break;
      case 'no-match':
        note('[The caller said something that could not be understood.]');
        break;
      case 'handoff-request':
        note('[A member of staff has asked for this caller to be transferred to a person. Call transfer_to_person now; if it says offerCallback, tell the caller and offer a call back.]');
        break;
      case 'call-start':
        break;
    }
  }

  /** A pending read-back is confirmed only by a yes parsed from the caller's own words. */
  private answerGate(input: BrainInput): BrainEvent | null {
    if (!this.invoker.pending || input.type !== 'speech') return null;
    const answer = parseYesNo(input.text);
    if (answer === null) return null;
    const outcome = this.invoker.answer({ kind: answer });
    return outcome.kind === 'confirmed' ? { type: 'slots', slots: { ...this.invoker.confirmed } } : null;
  }

  private listen(): BrainEvent {
    // No grammar for a cloud recogniser; keys gather into entries (phone numbers), ended by # or a pause.
    return { type: 'listen', hints: {}, keypad: 'digits' };
  }
}

/**
 * Text of one turn comes from several sources (stream rounds, fillers, the fallback brain's whole
 * sentences): keep a space between them so the sentence chunker still sees sentence ends.
 */
class Spacer {
  private last = '';
  spoke = false;

  next(text: string): BrainEvent {
    const joined = this.last !== '' && !/\s$/.test(this.last) && !/^\s/.test(text) ? ` ${text}` : text;
    if (joined) this.last = joined;
    if (joined.trim()) this.spoke = true;
    return { type: 'text', text: joined };
  }
}

/** `yield*` with a mapping; the inner generator is closed when the consumer stops early (barge-in). */
async function* relay<T, R, U>(inner: AsyncGenerator<T, R>, map: (value: T) => U): AsyncGenerator<U, R> {
  try {
    for (;;) {
      const next = await inner.next();
      if (next.done) return next.value;
      yield map(next.value);
    }
  } finally {
    await inner.return(undefined as never).catch(() => undefined);
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
