/**
 * Business tools. Inputs are schema-validated before `run`; every run gets an AbortSignal that
 * fires on barge-in, hang-up or the tool's timeout. Critical arguments must be confirmed by the
 * caller before the tool runs (see dialog/confirm-gate.ts).
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
  /** Argument names whose values must be read back and confirmed before the tool runs. */
  readonly critical: readonly string[];
  /** Per-tool timeout, ms. */
  readonly timeoutMs?: number;
  run(args: Args, context: ToolContext): Promise<Result>;
}
