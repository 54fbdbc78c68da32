/**
 * The only way a brain runs a tool: one gated invoker per call session, made of the confirm gate,
 * the tool runner and the call-log record. A state-changing tool whose arguments are critical
 * runs only with a confirmation the gate itself issued for exactly those values; otherwise the
 * call comes back as `needs-confirmation` with the read-back text, and nothing runs. Brains never
 * see the runner, so there is no path around the gate.
 *
 *   const tools = new GatedToolInvoker({ config, runner: new ToolRunner({ tools, call }) });
 *   const run = await tools.run('book_appointment', args, signal);
 *   if (run.status === 'needs-confirmation') speak(run.readBack) … later tools.answer({ kind: 'yes' });
 *
 * Which arguments are critical, and how they are read back, comes from the agent config only
 * (`slots.fields.*.critical`, `slots.readBack`; see read-back.ts). The read-back is built here from
 * the values that will run (and, for cancel/reschedule, from the booking as a tool reported it),
 * so a brain cannot have the caller confirm one thing and run another.
 */
import type { AgentConfig } from '../config/agent-schema.js';
import { clinicToolInputs, type Booking, type ClinicToolName } from '../tools/calendar-schemas.js';
import type { ToolExecutor } from '../tools/registry.js';
import type { ToolCallRecord, ToolFailure, ToolOutcome } from '../tools/tool-call-record.js';
import type { CallContext } from './brain.js';
import {
  answerConfirmation,
  EMPTY_GATE,
  readBackHeard,
  readBackRepeated,
  requestToolRun,
  type ConfirmAnswer,
  type ConfirmGateState,
  type ConfirmOutcome,
  type PendingConfirmation,
} from './confirm-gate.js';
import { criticalArgsFor, readBackText, speakSlot } from './read-back.js';

export type { ToolCallRecord, ToolFailure, ToolOutcome } from '../tools/tool-call-record.js';

export type ToolRun =
  /** The tool ran (successfully or not); `record` is its call-log entry. */
  | { status: 'ran'; outcome: ToolOutcome; record: ToolCallRecord }
  /** Critical values are unconfirmed: nothing ran. Speak `readBack`, ask, and pass the answer to `answer`. */
  | { status: 'needs-confirmation'; readBack: string; unconfirmed: string[] }
  /** Not run and not recorded: an unknown or disabled tool, or a booking id no tool has reported. */
  | { status: 'refused'; error: ToolFailure };

export interface GatedToolInvokerOptions {
  config: AgentConfig;
  /** Executes the tools (validation, timeout, abort): a ToolRunner. */
  runner: ToolExecutor;
  /** Monotonic clock for the recorded durations, ms. */
  monotonicMs?: () => number;
}

/** How a brain gets its invoker: one per call session, so confirmations never leak between calls. */
export type ToolInvokerFactory = (call: CallContext) => GatedToolInvoker;

export class GatedToolInvoker {
  private gate: ConfirmGateState = EMPTY_GATE;
  /** Bookings seen in tool results, by id: cancel/reschedule read back their date and time. */
  private readonly bookings = new Map<string, Booking>();
  private readonly mono: () => number;

  constructor(private readonly options: GatedToolInvokerOptions) {
    this.mono = options.monotonicMs ?? (() => performance.now());
  }

  /** The read-back waiting for the caller's answer, if any. */
  get pending(): PendingConfirmation | null {
    return this.gate.pending;
  }

  /** Critical argument name → the value the caller confirmed. */
  get confirmed(): Readonly<Record<string, string>> {
    return this.gate.confirmed;
  }

  /** Runs `name` if it is enabled and every critical value is confirmed; never throws. */
  async run(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolRun> {
    const config = this.options.config;
    if (!isClinicTool(name)) return refused('unknown-tool', `There is no tool named ${name}.`);
    if (!config.tools.enabled.includes(name)) return refused('not-enabled', `${name} is not enabled.`);

    const critical = criticalArgsFor(config, name, args);
    if (critical.length > 0) {
      const extra = this.readBackExtra(name, args);
      if (extra === null) return refused('unknown-booking', 'Unknown booking id: look the bookings up with find_bookings first.');
      const request = requestToolRun(this.gate, name, args, critical, (a) => readBackText(config, name, a, extra));
      this.gate = request.state;
      if (!request.decision.run) return { status: 'needs-confirmation', readBack: request.decision.readBack, unconfirmed: request.decision.unconfirmed };
    }

    const started = this.mono();
    let outcome: ToolOutcome;
    try {
      outcome = await this.options.runner.call(name, args, signal);
    } catch (error) {
      // The runner reports failures as outcomes; this only guards against one that does not.
      outcome = { ok: false, error: { code: signal.aborted ? 'aborted' : 'internal', message: (error as Error).message } };
    }
    if (outcome.ok) this.rememberBookings(outcome.result);
    const ms = Math.round(this.mono() - started);
    return { status: 'ran', outcome, record: { name, args, result: outcome.ok ? outcome.result : outcome.error, ms, ok: outcome.ok } };
  }

  /**
   * The caller's answer to the pending read-back, as the brain understood their words (a yes
   * parsed from speech or a keypad key). Only a yes to a read-back they heard in full confirms.
   */
  answer(answer: ConfirmAnswer): ConfirmOutcome {
    const { state, outcome } = answerConfirmation(this.gate, answer);
    this.gate = state;
    return outcome;
  }

  /** The caller barged in: a read-back counts as heard only if all of it reached them. */
  heard(heardText: string): void {
    this.gate = readBackHeard(this.gate, heardText);
  }

  /** The read-back was spoken again in full. */
  repeated(): void {
    this.gate = readBackRepeated(this.gate);
  }

  /** Forget confirmations (a task ended or started over). */
  reset(): void {
    this.gate = EMPTY_GATE;
  }

  /**
   * Values a read-back needs beyond the arguments: the date and time of the booking being
   * cancelled or moved. Null when the booking is unknown (a guessed id).
   */
  private readBackExtra(name: ClinicToolName, args: Readonly<Record<string, unknown>>): Record<string, string> | null {
    if (name !== 'cancel_appointment' && name !== 'reschedule_appointment') return {};
    const booking = typeof args.bookingId === 'string' ? this.bookings.get(args.bookingId) : undefined;
    if (!booking) return null;
    const date = speakSlot(this.options.config, 'date', booking.date);
    const time = speakSlot(this.options.config, 'time', booking.time);
    return name === 'cancel_appointment' ? { date, time } : { oldDate: date, oldTime: time };
  }

  private rememberBookings(value: unknown): void {
    if (!value || typeof value !== 'object') return;
    const v = value as { booking?: Booking; bookings?: Booking[] };
    for (const b of [...(v.booking ? [v.booking] : []), ...(Array.isArray(v.bookings) ? v.bookings : [])]) {
      if (b && typeof b.bookingId === 'string') this.bookings.set(b.bookingId, b);
    }
  }
}

function isClinicTool(name: string): name is ClinicToolName {
  return Object.hasOwn(clinicToolInputs, name);
}

function refused(code: string, message: string): ToolRun {
  return { status: 'refused', error: { code, message } };
}
