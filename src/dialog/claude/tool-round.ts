/**
 * Runs the tool calls of one assistant message: all at once, each through the call's gated
 * invoker (confirm gate, runner with its timeout, record), with one filler sentence if they are
 * not back quickly. Every tool_use gets exactly one tool_result (the API rejects a history
 * without it), including the gated, timed-out, unknown and interrupted ones.
 */
import type { ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages/messages';
import type { AgentConfig } from '../../config/agent-schema.js';
import type { BrainEvent } from '../brain.js';
import { needsConfirmationResult } from '../confirm-gate.js';
import type { GatedToolInvoker, ToolCallRecord } from '../tool-invoker.js';
import { END_CALL_TOOL } from './request.js';
import type { ToolUseBlock } from './stream-attempt.js';

export interface ToolRoundContext {
  config: AgentConfig;
  tools: GatedToolInvoker;
  signal: AbortSignal;
  fillerAfterMs: number;
  /** False once this turn has said a filler (or anything): one is enough. */
  fillerAllowed: boolean;
  /** Rotates the fillers so consecutive turns do not repeat the same one. */
  fillerIndex: number;
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

async function runOne(ctx: ToolRoundContext, use: ToolUseBlock): Promise<OneResult> {
  if (use.name === END_CALL_TOOL) {
    const reason = typeof use.input.reason === 'string' && use.input.reason ? use.input.reason : 'agent-goodbye';
    return { ...plain(use, { ok: true }), endCall: reason };
  }
  const run = await ctx.tools.run(use.name, use.input, ctx.signal);
  if (run.status === 'refused') return plain(use, { error: run.error }, true);
  if (run.status === 'needs-confirmation') return plain(use, needsConfirmationResult(run));

  const { outcome, record } = run;
  const timedOut = !outcome.ok && outcome.error.code === 'timeout';
  let content: unknown = outcome.ok ? outcome.result : { error: outcome.error };
  if (timedOut) {
    content = {
      error: outcome.error,
      instruction: `The caller was already told: "${ctx.config.offline.messages.toolFailed}". Do not repeat it; offer to try again or to transfer them.`,
    };
  } else if (!outcome.ok && outcome.error.code === 'aborted') {
    content = { error: outcome.error, instruction: 'The caller interrupted before this finished; its outcome is unknown. Check before telling them.' };
  }
  const transferred = use.name === 'transfer_to_person' && outcome.ok && (outcome.result as { transferred?: unknown } | null)?.transferred === true;
  return { result: result(use, content, !outcome.ok), record, timedOut, transferred, endCall: null };
}
