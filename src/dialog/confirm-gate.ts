/**
 * Code-enforced confirm-back, shared by both brains. A tool with critical arguments runs only when
 * every critical value was read back to the caller and the caller said yes to exactly those values.
 * A brain cannot talk its way around it: a tool call with unconfirmed values becomes a
 * "needs confirmation" result carrying the read-back text, and only a yes parsed from the caller's
 * own words (see slots/yes-no.ts) confirms. Pure state + functions; the gated invoker
 * (tool-invoker.ts) keeps the state, so brains never hold it.
 */

export interface PendingConfirmation {
  tool: string;
  args: Readonly<Record<string, unknown>>;
  critical: readonly string[];
  readBack: string;
  /** False when the caller barged in before hearing the whole read-back: a yes then proves nothing. */
  heard: boolean;
}

export interface ConfirmGateState {
  /** Critical argument name → the value the caller confirmed. */
  readonly confirmed: Readonly<Record<string, string>>;
  readonly pending: PendingConfirmation | null;
}

export const EMPTY_GATE: ConfirmGateState = { confirmed: {}, pending: null };

const asText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** Critical arguments of `args` whose value differs from the confirmed one (or was never confirmed). */
export function unconfirmedArgs(state: ConfirmGateState, args: Readonly<Record<string, unknown>>, critical: readonly string[]): string[] {
  return critical.filter((name) => name in args && args[name] !== undefined && state.confirmed[name] !== asText(args[name]));
}

export type GateDecision = { run: true } | { run: false; unconfirmed: string[]; readBack: string };

/**
 * Asks to run `tool`. With everything confirmed the decision is `run`; otherwise the call becomes
 * the pending confirmation and the brain must speak `readBack` and ask.
 */
export function requestToolRun(
  state: ConfirmGateState,
  tool: string,
  args: Readonly<Record<string, unknown>>,
  critical: readonly string[],
  readBack: (args: Readonly<Record<string, unknown>>) => string,
): { state: ConfirmGateState; decision: GateDecision } {
  const unconfirmed = unconfirmedArgs(state, args, critical);
  if (unconfirmed.length === 0) return { state: { ...state, pending: null }, decision: { run: true } };
  const text = readBack(args);
  return {
    state: { ...state, pending: { tool, args: { ...args }, critical: [...critical], readBack: text, heard: true } },
    decision: { run: false, unconfirmed, readBack: text },
  };
}

/** The shape an LLM sees instead of a tool result when confirmation is missing. */
export function needsConfirmationResult(decision: { readBack: string; unconfirmed: readonly string[] }) {
  return {
    status: 'needs-confirmation' as const,
    readBack: decision.readBack,
    unconfirmed: decision.unconfirmed,
    instruction: 'Read this back to the caller and ask them to confirm. The tool runs only after they say yes.',
  };
}

/** The caller barged in: the read-back counts as heard only if all of it reached them. */
export function readBackHeard(state: ConfirmGateState, heardText: string): ConfirmGateState {
  if (!state.pending) return state;
  const norm = (s: string) => s.replace(/\s+/g, ' ').trim();
  return { ...state, pending: { ...state.pending, heard: norm(heardText).includes(norm(state.pending.readBack)) } };
}

/** The read-back was spoken again in full: presume it heard unless another barge-in says otherwise. */
export function readBackRepeated(state: ConfirmGateState): ConfirmGateState {
  return state.pending ? { ...state, pending: { ...state.pending, heard: true } } : state;
}

export type ConfirmAnswer = { kind: 'yes' } | { kind: 'no'; corrections?: Readonly<Record<string, string>> };

export type ConfirmOutcome =
  | { kind: 'confirmed'; tool: string; args: Readonly<Record<string, unknown>> }
  /** Yes to a read-back the caller did not hear in full: read it again. */
  | { kind: 'not-heard'; readBack: string }
  /** Some values replaced; they (and only they) are unconfirmed again, the rest stay as they were. */
  | { kind: 'corrected'; corrections: Readonly<Record<string, string>> }
  | { kind: 'rejected' }
  | { kind: 'nothing-pending' };

export function answerConfirmation(state: ConfirmGateState, answer: ConfirmAnswer): { state: ConfirmGateState; outcome: ConfirmOutcome } {
  const pending = state.pending;
  if (!pending) return { state, outcome: { kind: 'nothing-pending' } };
  if (answer.kind === 'yes') {
    if (!pending.heard) return { state, outcome: { kind: 'not-heard', readBack: pending.readBack } };
    const confirmed = { ...state.confirmed };
    for (const name of pending.critical) if (pending.args[name] !== undefined) confirmed[name] = asText(pending.args[name]);
    return { state: { confirmed, pending: null }, outcome: { kind: 'confirmed', tool: pending.tool, args: pending.args } };
  }
  const corrections = Object.fromEntries(Object.entries(answer.corrections ?? {}).filter(([name]) => pending.critical.includes(name)));
  if (Object.keys(corrections).length > 0) return { state: { ...state, pending: null }, outcome: { kind: 'corrected', corrections } };
  return { state: { ...state, pending: null }, outcome: { kind: 'rejected' } };
}

/** Forget confirmations (start over, a new task). */
export function resetGate(): ConfirmGateState {
  return EMPTY_GATE;
}
