/**
 * A fixture's `expect.json`: what a replay must reproduce. Every field is optional.
 *
 *   callerTexts  what the recogniser heard, turn by turn (exact, in order; keys as digits)
 *   toolCalls    the tool calls in order: name, and the arguments that matter (a subset match)
 *   slots        confirmed slots (a subset match; values as stored, i.e. redacted)
 *   agentSays    phrases (case-insensitive) the agent's replies contain, in this order
 *   bargeIns     how many times the caller interrupted the agent
 *   endReason    how the call ended
 *   ttfaBudgetMs every caller turn's time to first audio must be within this
 */
import type { CallRecord, CallerTurn } from '../src/store/call-record.js';

export interface Expectations {
  callerTexts?: string[];
  toolCalls?: Array<{ name: string; args?: Record<string, unknown>; ok?: boolean }>;
  slots?: Record<string, string>;
  agentSays?: string[];
  bargeIns?: number;
  endReason?: string;
  ttfaBudgetMs?: number;
}

/** Each miss as one readable line ("expected …, got …"); empty when everything matched. */
export function checkExpectations(expect: Expectations, record: CallRecord | undefined): string[] {
  if (!record) return ['no call record: the server never reported the call'];
  const misses: string[] = [];
  const callerTurns = record.turns.filter((t): t is CallerTurn => t.role === 'caller');
  const agentTexts = record.turns.filter((t) => t.role === 'agent').map((t) => t.text);

  if (expect.callerTexts) {
    const got = callerTurns.map((t) => t.text);
    const n = Math.max(got.length, expect.callerTexts.length);
    for (let i = 0; i < n; i++) {
      const want = expect.callerTexts[i];
      const heard = got[i];
      if (want !== heard) misses.push(`caller turn ${i + 1}: expected ${show(want)}, heard ${show(heard)}`);
    }
  }
  if (expect.toolCalls) {
    const got = record.toolCalls;
    const n = Math.max(got.length, expect.toolCalls.length);
    for (let i = 0; i < n; i++) {
      const want = expect.toolCalls[i];
      const call = got[i];
      if (!want) {
        misses.push(`tool call ${i + 1}: unexpected ${call?.name}(${JSON.stringify(call?.args)})`);
      } else if (!call) {
        misses.push(`tool call ${i + 1}: expected ${want.name}(${JSON.stringify(want.args ?? {})}), none made`);
      } else {
        if (call.name !== want.name) misses.push(`tool call ${i + 1}: expected ${want.name}, got ${call.name}`);
        for (const [key, value] of Object.entries(want.args ?? {})) {
          if (JSON.stringify(call.args[key]) !== JSON.stringify(value)) {
            misses.push(`tool call ${i + 1} ${want.name}.${key}: expected ${JSON.stringify(value)}, got ${JSON.stringify(call.args[key])}`);
          }
        }
        if (want.ok !== undefined && call.ok !== want.ok) misses.push(`tool call ${i + 1} ${want.name}: expected ok=${want.ok}, got ok=${call.ok}`);
      }
    }
  }
  for (const [slot, value] of Object.entries(expect.slots ?? {})) {
    if (record.slots[slot] !== value) misses.push(`slot ${slot}: expected ${show(value)}, got ${show(record.slots[slot])}`);
  }
  if (expect.agentSays) {
    let turn = 0;
    for (const phrase of expect.agentSays) {
      const at = agentTexts.findIndex((text, i) => i >= turn && text.toLowerCase().includes(phrase.toLowerCase()));
      if (at < 0) misses.push(`agent never said ${show(phrase)}${turn > 0 ? ` after reply ${turn}` : ''}`);
      else turn = at;
    }
  }
  if (expect.bargeIns !== undefined && record.bargeIns !== expect.bargeIns) {
    misses.push(`barge-ins: expected ${expect.bargeIns}, got ${record.bargeIns}`);
  }
  if (expect.endReason !== undefined && record.endReason !== expect.endReason) {
    misses.push(`end reason: expected ${show(expect.endReason)}, got ${show(record.endReason ?? undefined)}`);
  }
  if (expect.ttfaBudgetMs !== undefined) {
    callerTurns.forEach((t, i) => {
      const ttfa = t.metrics.ttfaMs;
      if (ttfa !== null && ttfa > expect.ttfaBudgetMs!) misses.push(`caller turn ${i + 1} (${show(t.text)}): TTFA ${ttfa} ms over the ${expect.ttfaBudgetMs} ms budget`);
    });
  }
  return misses;
}

function show(value: string | undefined): string {
  return value === undefined ? '(nothing)' : JSON.stringify(value);
}
