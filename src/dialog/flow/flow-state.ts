/** The flow brain's per-call state: where the dialog is and what it has collected. */
import type { StepName } from '../../config/dialog-schema.js';
import type { Booking } from '../../tools/calendar-schemas.js';
import type { Task } from '../grammar/step-grammars.js';

export type FormSlot = 'name' | 'phone' | 'date' | 'time' | 'service';

export interface FlowState {
  /** What the next caller turn is expected to answer. */
  step: StepName;
  task: Task | null;
  slots: Partial<Record<FormSlot, string>>;
  /** `date time` last reported free by check_availability (re-checked when either changes). */
  checked: string | null;
  /** Free times offered after the requested one was taken, `HH:MM`. */
  offered: string[];
  /** Phone whose bookings are in `bookings`. */
  lookedUpPhone: string | null;
  bookings: Booking[];
  /** The booking being rescheduled or cancelled. */
  target: Booking | null;
  /** The caller said no to using their caller ID. */
  callerIdDeclined: boolean;
  /** Consecutive misses (no-match or not understood) in the current step. */
  misses: number;
  /** Consecutive no-input timeouts. */
  noInputs: number;
  /** The last full reply, for "repeat that". */
  lastReply: string;
  /** Turns handled, for deterministic filler rotation. */
  turns: number;
  /** The call is ending (goodbye or transfer); later input is ignored. */
  done: boolean;
  /** A clarifying question is open: the intent asked about and the step to go back to on "no". */
  clarify: { intentId: string; text: string; returnStep: StepName } | null;
}

export function initialFlowState(): FlowState {
  return {
    step: 'menu',
    task: null,
    slots: {},
    checked: null,
    offered: [],
    lookedUpPhone: null,
    bookings: [],
    target: null,
    callerIdDeclined: false,
    misses: 0,
    noInputs: 0,
    lastReply: '',
    turns: 0,
    done: false,
    clarify: null,
  };
}

/**
 * Back to the menu with nothing collected; the last reply survives so "repeat that" still works.
 * Use runtime.ts `clearTask`, which also forgets the gate's confirmations.
 */
export function clearTaskState(state: FlowState): void {
  const { lastReply, turns, noInputs } = state;
  Object.assign(state, initialFlowState(), { lastReply, turns, noInputs });
}
