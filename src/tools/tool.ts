/**
 * Business tools. Inputs are schema-validated before `run`; every run gets an AbortSignal that
 * fires on barge-in, hang-up or the tool's timeout. Which arguments are critical (read back and
 * confirmed before the tool runs) is the agent config's call, not the tool's: see
 * dialog/tool-invoker.ts, the only way a brain can run a tool.
 */
import type { z } from 'zod';

export interface ToolContext {
  signal: AbortSignal;
  callSid: string;
  from: string;
}

export interface Tool<Args = any, Result = unknown> {
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType<Args>;
  /** Per-tool timeout, ms. */
  readonly timeoutMs?: number;
  run(args: Args, context: ToolContext): Promise<Result>;
}
