/**
 * Runs the tool calls of one assistant message: all at once, each through the confirm gate, each
 * bounded by a timeout, with one filler sentence if they are not back quickly. Every tool_use gets
 * exactly one tool_result (the API rejects a history without it), including the gated, timed-out,
 * unknown and interrupted ones.
 */
import type { ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages/messages';
import type { AgentConfig } from '../../config/agent-schema.js';
import { clinicToolInputs, type Booking, type ClinicToolName } from '../../tools/calendar-schemas.js';
import type { BrainEvent, ToolCallRecord } from '../brain.js';
import { needsConfirmationResult, requestToolRun, type ConfirmGateState } from '../confirm-gate.js';
import { criticalArgsFor, readBackText, speakSlot } from '../read-back.js';
import type { ToolInvoker, ToolOutcome } from '../tool-invoker.js';
import { END_CALL_TOOL } from './request.js';
import type { ToolUseBlock } from './stream-attempt.js';

export interface ToolRoundContext {
  config: AgentConfig;
  tools: ToolInvoker;
  signal: AbortSignal;
  /** Per tool, ms: a slow calendar lookup should be cut long before a transfer's Twilio call is. */
  toolTimeoutMs: (name: ClinicToolName) => number;
  fillerAfterMs: number;
  /** False once this turn has said a filler (or anything): one is enough. */
  fillerAllowed: boolean;
  /** Rotates the fillers so consecutive turns do not repeat the same one. */
  fillerIndex: number;
  monotonicMs: () => number;
  /** The call's gate; read and written here (calls start in order, so updates do not race). */
  gate: { state: ConfirmGateState };
  /** Bookings seen in tool results, by id: the read-backs of cancel/reschedule need their date and time. */
  bookings: Map<string, Booking>;
}

export interface ToolRoundResult {
  results: ToolResultBlockParam[];
  transferred: boolean;
  endCall: string | null;
  saidFiller: boolean;
}

interface OneResult {
  result: ToolResultBlockParam;
  record: ToolCallRecord | null;
  timedOut: boolean;
  transferred: boolean;
  endCall: string | null;
}

export async function* runToolRound(ctx: ToolRoundContext, uses: readonly ToolUseBlock[]): AsyncGenerator<BrainEvent, ToolRoundResult, undefined> {
  // Started synchronously in order, so gate decisions happen in the order Claude asked for them.
  const runs = uses.map((use) => runOne(ctx, use));
  const all = Promise.all(runs);
  let saidFiller = false;
  const fillers = ctx.config.offline.fillers;
  if (ctx.fillerAllowed && fillers.length > 0) {
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<'slow'>((resolve) => (timer = setTimeout(() => resolve('slow'), ctx.fillerAfterMs)));
    const first = await Promise.race([all.then(() => 'done' as const), slow]);
    clearTimeout(timer);
    if (first === 'slow' && !ctx.signal.aborted) {
      saidFiller = true;
      yield { type: 'text', text: `${fillers[ctx.fillerIndex % fillers.length]!} ` };
    }
  }
  const outcomes = await all;
  for (const outcome of outcomes) if (outcome.record) yield { type: 'tool-call', call: outcome.record };
  if (outcomes.some((o) => o.timedOut) && !ctx.signal.aborted) yield { type: 'text', text: `${ctx.config.offline.messages.toolFailed} ` };
  return {
    results: outcomes.map((o) => o.result),
    transferred: outcomes.some((o) => o.transferred),
    endCall: outcomes.find((o) => o.endCall !== null)?.endCall ?? null,
    saidFiller,
  };
}

const result = (use: ToolUseBlock, content: unknown, isError = false): ToolResultBlockParam => ({
  type: 'tool_result',
  tool_use_id: use.id,
  content: JSON.stringify(content),
  ...(isError ? { is_error: true } : {}),
});

const plain = (use: ToolUseBlock, content: unknown, isError = false): OneResult => ({
  result: result(use, content, isError),
  record: null,
  timedOut: false,
  transferred: false,
  endCall: null,
});

function isClinicTool(name: string): name is ClinicToolName {
  return Object.hasOwn(clinicToolInputs, name);
}

async function runOne(ctx: ToolRoundContext, use: ToolUseBlock): Promise<OneResult> {
  if (use.name === END_CALL_TOOL) {
    const reason = typeof use.input.reason === 'string' && use.input.reason ? use.input.reason : 'agent-goodbye';
    return { ...plain(use, { ok: true }), endCall: reason };
  }
  if (!isClinicTool(use.name) || !ctx.config.tools.enabled.includes(use.name)) {
    return plain(use, { error: { code: 'unknown-tool', message: `There is no tool named ${use.name}.` } }, true);
  }
  const name = use.name;
  const args = use.input;

  // The confirm gate: state-changing tools run only with values the caller said yes to.
  const critical = criticalArgsFor(ctx.config, name, args);
  if (critical.length > 0) {
    const extra = readBackExtra(ctx, name, args);
    if (extra === null) {
      return plain(use, { error: { code: 'unknown-booking', message: 'Unknown booking id: look the bookings up with find_bookings first.' } }, true);
    }
    const request = requestToolRun(ctx.gate.state, name, args, critical, (a) => readBackText(ctx.config, name, a, extra));
    ctx.gate.state = request.state;
    if (!request.decision.run) return plain(use, needsConfirmationResult(request.decision));
  }

  const started = ctx.monotonicMs();
  const controller = new AbortController();
  const signal = AbortSignal.any([ctx.signal, controller.signal]);
  let timer: NodeJS.Timeout | undefined;
  // Raced as well as signalled: a tool that ignores its signal must not hold the turn.
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ctx.toolTimeoutMs(name))));
  let outcome: ToolOutcome | 'timeout';
  try {
    outcome = await Promise.race([ctx.tools.call(name, args, signal), timeout]);
  } catch (error) {
    outcome = { ok: false, error: { code: ctx.signal.aborted ? 'aborted' : 'internal', message: (error as Error).message } };
  } finally {
    clearTimeout(timer);
  }
  const timedOut = outcome === 'timeout';
  if (timedOut) controller.abort(new Error('tool timeout'));
  const final: ToolOutcome = outcome === 'timeout' ? { ok: false, error: { code: 'timeout', message: `${name} did not answer in time` } } : outcome;
  const ms = Math.round(ctx.monotonicMs() - started);
  const record: ToolCallRecord = { name, args, result: final.ok ? final.result : final.error, ms, ok: final.ok };
  if (final.ok) rememberBookings(ctx.bookings, final.result);

  let content: unknown = final.ok ? final.result : { error: final.error };
  if (timedOut) {
    content = {
      error: final.ok ? null : final.error,
      instruction: `The caller was already told: "${ctx.config.offline.messages.toolFailed}". Do not repeat it; offer to try again or to transfer them.`,
    };
  } else if (!final.ok && final.error.code === 'aborted') {
    content = { error: final.error, instruction: 'The caller interrupted before this finished; its outcome is unknown. Check before telling them.' };
  }
  const transferred = name === 'transfer_to_person' && final.ok && (final.result as { transferred?: unknown } | null)?.transferred === true;
  return { result: result(use, content, !final.ok), record, timedOut, transferred, endCall: null };
}

/**
 * Values a read-back needs beyond the arguments: the date and time of the booking being
 * cancelled or moved. Null when the booking is unknown (Claude guessed an id).
 */
function readBackExtra(ctx: ToolRoundContext, name: ClinicToolName, args: Readonly<Record<string, unknown>>): Record<string, string> | null {
  if (name !== 'cancel_appointment' && name !== 'reschedule_appointment') return {};
  const booking = typeof args.bookingId === 'string' ? ctx.bookings.get(args.bookingId) : undefined;
  if (!booking) return null;
  const date = speakSlot(ctx.config, 'date', booking.date);
  const time = speakSlot(ctx.config, 'time', booking.time);
  return name === 'cancel_appointment' ? { date, time } : { oldDate: date, oldTime: time };
}

function rememberBookings(bookings: Map<string, Booking>, value: unknown): void {
  if (!value || typeof value !== 'object') return;
  const v = value as { booking?: Booking; bookings?: Booking[] };
  for (const b of [...(v.booking ? [v.booking] : []), ...(Array.isArray(v.bookings) ? v.bookings : [])]) {
    if (b && typeof b.bookingId === 'string') bookings.set(b.bookingId, b);
  }
}
