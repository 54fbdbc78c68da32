/**
 * What the flow's handlers share during one turn: config, tools, clock, the call's state, and the
 * output helpers that turn text into sentence events and tool runs into `tool-call` events.
 */
import type { AgentConfig } from '../../config/agent-schema.js';
import type { StepName } from '../../config/dialog-schema.js';
import type { BrainEvent } from '../brain.js';
import type { GrammarContext } from '../grammar/step-grammars.js';
import { formatDigitsForSpeech } from '../slots/digits.js';
import { todayIn } from '../slots/dates.js';
import type { ClockWindow } from '../slots/times.js';
import { fillTemplate, joinList, splitSentences } from '../templates.js';
import type { GatedToolInvoker, ToolOutcome, ToolRun } from '../tool-invoker.js';
import { clearTaskState, type FlowState } from './flow-state.js';

export type Events = AsyncGenerator<BrainEvent, void, undefined>;

export interface FlowRuntime {
  readonly config: AgentConfig;
  /** This call's gated invoker: holds the confirm gate too. */
  readonly tools: GatedToolInvoker;
  readonly now: () => Date;
  /** Monotonic ms, for tool timings. */
  readonly monotonicMs: () => number;
  /** National digits of the caller ID, or null when withheld. */
  readonly callerId: string | null;
  readonly parseName: (text: string) => string | null;
  readonly window: ClockWindow;
  readonly grammar: GrammarContext;
  readonly state: FlowState;
  signal: AbortSignal;
  /** Sentences said so far this turn. */
  spoken: string[];
}

export function today(rt: FlowRuntime): string {
  return todayIn(rt.config.business.schedule.timezone, rt.now());
}

/** Placeholders every config text may use. */
export function baseVars(rt: FlowRuntime): Record<string, string> {
  const b = rt.config.business;
  return {
    businessName: b.name,
    persona: rt.config.persona.name,
    hours: b.hoursText,
    address: b.address,
    services: joinList(b.services),
    businessPhone: b.phone ? formatDigitsForSpeech(b.phone) : '',
    callerIdEnding: rt.callerId ? formatDigitsForSpeech(rt.callerId.slice(-4)) : '',
  };
}

/** Speaks `template` sentence by sentence. */
export function* say(rt: FlowRuntime, template: string, vars: Record<string, string> = {}): Generator<BrainEvent> {
  // "… at ten a.m." + "." must not be spoken as two full stops.
  const text = fillTemplate(template, { ...baseVars(rt), ...vars }).replace(/([.?!])\.(?=\s|$)/g, '$1');
  for (const sentence of splitSentences(text)) {
    rt.spoken.push(sentence);
    // The trailing space marks the sentence as complete for the session's sentence chunker.
    yield { type: 'text', text: `${sentence} ` };
  }
}

/** Moves to `step` and asks its question (or `prompt` instead, e.g. a list of offered times). */
export function* ask(rt: FlowRuntime, step: StepName, prompt?: string): Generator<BrainEvent> {
  if (rt.state.step !== step) rt.state.misses = 0;
  rt.state.step = step;
  yield* say(rt, prompt ?? rt.config.offline.steps[step].prompt);
}

/** A filler before a lookup, rotated by turn so replies stay deterministic. */
export function* filler(rt: FlowRuntime): Generator<BrainEvent> {
  const fillers = rt.config.offline.fillers;
  if (fillers.length > 0) yield* say(rt, fillers[rt.state.turns % fillers.length]!);
}

/** Runs a tool through the call's gated invoker and reports a run as a `tool-call` event. */
export async function* runTool(rt: FlowRuntime, name: string, args: Record<string, unknown>): AsyncGenerator<BrainEvent, ToolRun> {
  const run = await rt.tools.run(name, args, rt.signal);
  if (run.status === 'ran') yield { type: 'tool-call', call: run.record };
  return run;
}

/**
 * Runs a tool that needs no confirmation (a lookup, a transfer) and returns its outcome; an abort
 * mid-call comes back as `{ ok: false, error: { code: 'aborted' } }` and the turn loop stops yielding.
 */
export async function* callTool(rt: FlowRuntime, name: string, args: Record<string, unknown>): AsyncGenerator<BrainEvent, ToolOutcome> {
  const run = yield* runTool(rt, name, args);
  if (run.status === 'ran') return run.outcome;
  if (run.status === 'refused') return { ok: false, error: run.error };
  return { ok: false, error: { code: 'needs-confirmation', message: run.readBack } };
}

/** Back to the menu with nothing collected, and nothing confirmed. */
export function clearTask(rt: FlowRuntime): void {
  clearTaskState(rt.state);
  rt.tools.reset();
}
