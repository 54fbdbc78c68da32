/**
 * The offline dialog engine ("flow brain"): a deterministic, config-driven state machine that
 * needs no API keys. Every turn ends with a `listen` event carrying the JSGF grammar of the next
 * step, because the offline recogniser can only hear what it is told to expect.
 *
 *   const brain = new FlowBrain({ config, tools, now: () => new Date() });
 *   const session = brain.createSession({ callSid, from, to });
 *   for await (const event of session.turn({ type: 'call-start' }, { signal, history })) …
 */
import type { AgentConfig } from '../config/agent-schema.js';
import type { IntentConfig, StepName } from '../config/dialog-schema.js';
import type { Brain, BrainEvent, BrainInput, BrainSession, BrainTurnOptions, CallContext } from './brain.js';
import { offerCallback } from './flow/callback-task.js';
import { answerStep, canAnswer, type Answer } from './flow/step-answers.js';
import { initialFlowState, type FlowState } from './flow/flow-state.js';
import { ask, callTool, clearTask, say, today, type Events, type FlowRuntime } from './flow/runtime.js';
import { advance } from './flow/tasks.js';
import { stepHints } from './grammar/step-grammars.js';
import { intentForKey } from './intents.js';
import { parseDate } from './slots/dates.js';
import { callerIdDigits, parseKeypadEntry } from './slots/digits.js';
import { BUILT_IN_FIRST_NAMES, nameParser } from './slots/names.js';
import { normalizeUtterance } from './slots/normalize.js';
import { fillTemplate } from './templates.js';
import { parseTime, toMinutes, type ClockWindow } from './slots/times.js';
import type { ToolInvokerFactory } from './tool-invoker.js';
import { describeIntent } from './understanding/describe.js';
import { IntentScorer } from './understanding/intent-scorer.js';
import { understand } from './understanding/understand.js';

/** The session's runtime plus the understanding layer's scorer (built once per brain). */
type SessionRuntime = FlowRuntime & { readonly scorer: IntentScorer };

/** Steps whose keypad answer is several digits (gathered until # or a pause), not a menu key. */
const DIGIT_ENTRY_STEPS: ReadonlySet<StepName> = new Set<StepName>(['date', 'time', 'phone', 'phoneChoice']);

export interface FlowBrainOptions {
  config: AgentConfig;
  /** Makes each call session's gated invoker: the only way this brain runs tools. */
  tools: ToolInvokerFactory;
  /** Wall clock; "today" and "tomorrow" are relative to it (in the clinic's time zone). */
  now?: () => Date;
  /** Monotonic clock for tool timings, ms. */
  monotonicMs?: () => number;
}

export class FlowBrain implements Brain {
  readonly name = 'flow';
  private readonly names: string[];
  private readonly window: ClockWindow;
  private readonly scorer: IntentScorer;

  constructor(private readonly options: FlowBrainOptions) {
    this.scorer = new IntentScorer(options.config.offline.intents);
    const slots = options.config.slots;
    this.names = [...new Set([...(slots.useBuiltInNames ? BUILT_IN_FIRST_NAMES : []), ...slots.names])];
    this.window = openingWindow(options.config);
  }

  createSession(context: CallContext): BrainSession {
    return new FlowSession(context.resume !== undefined, {
      config: this.options.config,
      tools: this.options.tools(context),
      now: this.options.now ?? (() => new Date()),
      monotonicMs: this.options.monotonicMs ?? (() => performance.now()),
      callerId: callerIdDigits(context.from),
      parseName: nameParser(this.names),
      window: this.window,
      grammar: { intents: this.options.config.offline.intents, names: this.names, services: this.options.config.business.services },
      state: context.resume ? restoredState(context.resume.brainState) : initialFlowState(),
      signal: new AbortController().signal,
      spoken: [],
      scorer: this.scorer,
    });
  }
}

/** Earliest opening to latest closing across the week: the hours a bare "three" must fall in. */
function openingWindow(config: AgentConfig): ClockWindow {
  const days = Object.values(config.business.schedule.hours);
  if (days.length === 0) return { openMinutes: 8 * 60, closeMinutes: 18 * 60 };
  return {
    openMinutes: Math.min(...days.map((d) => toMinutes(d.open))),
    closeMinutes: Math.max(...days.map((d) => toMinutes(d.close))),
  };
}

/** A stored snapshot back as state; anything unusable starts the dialog afresh (at the menu). */
function restoredState(brainState: unknown): FlowState {
  const base = initialFlowState();
  if (typeof brainState !== 'object' || brainState === null) return base;
  return { ...base, ...(brainState as Partial<FlowState>), done: false };
}

class FlowSession implements BrainSession {
  constructor(
    private resuming: boolean,
    private readonly rt: SessionRuntime,
  ) {}

  snapshot(): unknown {
    return structuredClone(this.rt.state);
  }

  /** Exposed for tests and debugging. */
  get state(): Readonly<FlowState> {
    return this.rt.state;
  }

  async *turn(input: BrainInput, options: BrainTurnOptions): AsyncIterable<BrainEvent> {
    const rt = this.rt;
    if (rt.state.done) return;
    rt.signal = options.signal;
    rt.spoken = [];
    let repeated = false;
    for await (const event of this.handle(input, () => (repeated = true))) {
      if (options.signal.aborted) return;
      yield event;
    }
    if (options.signal.aborted) return;
    rt.state.turns++;
    if (!repeated && rt.spoken.length > 0) rt.state.lastReply = rt.spoken.join(' ');
    if (!rt.state.done) {
      yield {
        type: 'listen',
        hints: stepHints({ step: rt.state.step, task: rt.state.task }, rt.grammar),
        intent: rt.state.step,
        keypad: DIGIT_ENTRY_STEPS.has(rt.state.step) ? 'digits' : 'single',
      };
    }
  }

  interrupted(heardText: string): void {
    this.rt.tools.heard(heardText);
  }

  private async *handle(input: BrainInput, markRepeat: () => void): Events {
    const rt = this.rt;
    const s = rt.state;
    switch (input.type) {
      case 'call-start':
        if (this.resuming) {
          this.resuming = false;
          return yield* offerCallback(rt, rt.config.transfer.messages.backFromHold);
        }
        yield* say(rt, rt.config.prompts.greeting);
        return yield* ask(rt, 'menu');
      case 'no-input': {
        s.noInputs++;
        if (s.noInputs > rt.config.timeouts.inactivityReprompts) return yield* this.endCall('no-input');
        const inactivity = rt.config.prompts.inactivity;
        yield* say(rt, inactivity[(s.noInputs - 1) % inactivity.length]!);
        return yield* this.reprompt(s.noInputs);
      }
      case 'no-match':
        s.noInputs = 0;
        return yield* this.miss();
      case 'speech': {
        s.noInputs = 0;
        const text = normalizeUtterance(input.text);
        if (text === '' || input.confidence < rt.config.offline.minConfidence) return yield* this.miss();
        const recognition = input.recognition && {
          ...input.recognition,
          ...(input.recognition.grammar ? { grammar: { ...input.recognition.grammar, text: normalizeUtterance(input.recognition.grammar.text) } } : {}),
          ...(input.recognition.open ? { open: { ...input.recognition.open, text: normalizeUtterance(input.recognition.open.text) } } : {}),
        };
        const u = understand(
          { step: s.step, task: s.task, text, recognition, answers: (t) => canAnswer(rt, t), value: (t) => (s.step === 'name' ? rt.parseName(t) : null) },
          rt.scorer,
          rt.config.offline.understanding,
        );
        switch (u.kind) {
          case 'act':
            if (u.intent.action === 'repeat') markRepeat();
            return yield* this.runIntent(rt, u.intent, u.text);
          case 'clarify':
            return yield* this.clarify(u.intent, u.text);
          case 'answer':
            return yield* this.answer({ kind: 'speech', text: u.text });
          case 'none':
            return yield* this.miss();
        }
      }
      case 'handoff-request':
        return yield* this.transfer('', 'staff');
      case 'dtmf': {
        s.noInputs = 0;
        const digitEntry = s.step === 'phone' || s.step === 'phoneChoice';
        const global = digitEntry ? null : intentForKey(input.digits, rt.config.offline.intents, { globalOnly: true });
        if (global && parseKeypadEntry(input.digits).length === 1) return yield* this.runIntent(rt, global, '');
        return yield* this.answer({ kind: 'dtmf', digits: input.digits });
      }
    }
  }

  /** "Did you want to …?": yes runs the intent, no goes back to the question the caller was on. */
  private *clarify(intent: IntentConfig, text: string): Generator<BrainEvent> {
    const s = this.rt.state;
    const returnStep = s.step === 'clarify' ? (s.clarify?.returnStep ?? 'menu') : s.step;
    s.clarify = { intentId: intent.id, text, returnStep };
    yield* ask(this.rt, 'clarify', fillTemplate(this.rt.config.offline.steps.clarify.prompt, { describe: describeIntent(intent) }));
  }

  private async *answer(answer: Answer): Events {
    const before = this.rt.state.step;
    const understood = yield* answerStep(this.rt, answer, (rt, intent, text) => this.runIntent(rt, intent, text));
    if (!understood) return yield* this.miss();
    if (this.rt.state.step === before) this.rt.state.misses = 0;
  }

  /** Not understood: two different reprompts, then the keypad / person fallback. */
  private async *miss(): Events {
    this.rt.state.misses++;
    yield* this.reprompt(this.rt.state.misses);
  }

  private *reprompt(attempt: number): Generator<BrainEvent> {
    const step = this.rt.config.offline.steps[this.rt.state.step];
    const vars = this.clarifyVars();
    if (attempt <= step.reprompts.length) yield* say(this.rt, step.reprompts[attempt - 1]!, vars);
    else yield* say(this.rt, step.keypad, vars);
  }

  /** `{describe}` for the clarifying question's reprompts. */
  private clarifyVars(): Record<string, string> {
    const pending = this.rt.state.clarify;
    const intent = pending && this.rt.config.offline.intents.find((i) => i.id === pending.intentId);
    return intent ? { describe: describeIntent(intent) } : {};
  }

  private async *runIntent(rt: FlowRuntime, intent: IntentConfig, text: string): Events {
    const s = rt.state;
    switch (intent.action) {
      case 'book':
      case 'reschedule':
      case 'cancel': {
        clearTask(rt);
        s.task = intent.action;
        if (intent.action === 'book') {
          // "book a checkup tomorrow at three" fills what it can in one go.
          const date = parseDate(text, today(rt));
          const time = date ? parseTime(text, rt.window) : null;
          const service = rt.config.business.services.find((sv) => ` ${text} `.includes(` ${sv} `));
          if (date) s.slots.date = date;
          if (time) s.slots.time = time;
          if (service) s.slots.service = service;
        }
        return yield* advance(rt);
      }
      case 'answer':
        yield* say(rt, intent.answer ?? '');
        return yield* ask(rt, 'anythingElse');
      case 'transfer':
        return yield* this.transfer(text);
      case 'goodbye':
        return yield* this.endCall('caller-goodbye');
      case 'repeat':
        return yield* say(rt, s.lastReply || rt.config.offline.steps[s.step].prompt);
      case 'start-over':
        clearTask(rt);
        yield* say(rt, rt.config.offline.messages.startOver);
        return yield* ask(rt, 'menu');
    }
  }

  private async *transfer(text: string, askedBy: 'caller' | 'staff' = 'caller'): Events {
    const rt = this.rt;
    const m = rt.config.offline.messages;
    const topic = rt.state.task ?? 'general';
    const outcome = yield* callTool(rt, 'transfer_to_person', { reason: `${askedBy} asked during ${rt.state.step}${text ? `: ${text}` : ''}`.slice(0, 200), topic });
    const result = (outcome.ok ? outcome.result : {}) as { transferred?: boolean; mode?: string; target?: string; reason?: string; offerCallback?: boolean };
    if (result.transferred === true) {
      if (result.mode === 'warm') yield* say(rt, rt.config.transfer.messages.warmHold, { target: result.target ?? 'team' });
      else yield* say(rt, m.transferring);
      rt.state.done = true;
      yield { type: 'transfer', reason: 'caller-request' };
      return;
    }
    if (!outcome.ok && outcome.error.code === 'aborted') return;
    if (result.offerCallback === true && rt.config.tools.enabled.includes('request_callback')) {
      const t = rt.config.transfer.messages;
      return yield* offerCallback(rt, result.reason === 'outside-hours' ? t.outsideHours : t.noPhoneLine);
    }
    // Not configured (or failed): say how to reach a person, then carry on where we were.
    yield* say(rt, rt.config.business.phone ? m.transferUnavailable : m.transferUnavailableNoPhone);
    // A pending read-back or a list of offered times is part of the question: say it all again.
    const pending = rt.tools.pending;
    if (rt.state.step === 'confirm' && pending) yield* say(rt, m.confirmLead, { readBack: pending.readBack });
    if (rt.state.step === 'time' && rt.state.offered.length > 0 && rt.state.lastReply) yield* say(rt, rt.state.lastReply);
    else yield* ask(rt, rt.state.step);
  }

  private *endCall(reason: string): Generator<BrainEvent> {
    yield* say(this.rt, this.rt.config.prompts.goodbye);
    this.rt.state.done = true;
    yield { type: 'end-call', reason };
  }
}
