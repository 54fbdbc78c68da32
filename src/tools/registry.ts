/**
 * Runs tools by name for one call: validates the arguments with the tool's schema, bounds the run
 * by the tool's timeout and the caller's AbortSignal, and turns every outcome into a result the
 * dialog can speak from, plus a ToolCallRecord for the call log. It never throws.
 */
import type { ToolCallRecord } from '../dialog/brain.js';
import type { Tool, ToolContext } from './tool.js';
import { ToolError } from './tool-error.js';
import { raceAbort } from '../util/abort.js';

export const defaultToolTimeoutMs = 2000;

export interface ToolFailure {
  /** A ToolError code, or one of: unknown-tool, invalid-args, timeout, aborted, internal. */
  code: string;
  message: string;
}

export type ToolCallOutcome =
  | { ok: true; result: unknown; record: ToolCallRecord }
  | { ok: false; error: ToolFailure; record: ToolCallRecord };

/** What the dialog engine calls tools through. */
export interface ToolCaller {
  call(name: string, args: unknown, signal: AbortSignal): Promise<ToolCallOutcome>;
}

export interface ToolRunnerOptions {
  tools: readonly Tool[];
  /** The phone call the tools act on (transfer needs its CallSid). */
  call: Omit<ToolContext, 'signal'>;
  /** Timeout for tools that do not set their own, ms. */
  defaultTimeoutMs?: number;
  /** Sees unexpected errors (reported to the dialog only as 'internal'), e.g. to log them. */
  onInternalError?: (toolName: string, error: unknown) => void;
}

export class ToolRunner implements ToolCaller {
  private readonly tools = new Map<string, Tool>();

  constructor(private readonly options: ToolRunnerOptions) {
    for (const tool of options.tools) {
      if (this.tools.has(tool.name)) throw new Error(`duplicate tool name: ${tool.name}`);
      this.tools.set(tool.name, tool);
    }
  }

  get names(): string[] {
    return [...this.tools.keys()];
  }

  get(name: string): Tool | undefined {
    return this.tools.get(name);
  }

  async call(name: string, args: unknown, signal: AbortSignal): Promise<ToolCallOutcome> {
    const started = performance.now();
    const recordedArgs = asRecord(args);
    const fail = (error: ToolFailure): ToolCallOutcome => ({
      ok: false,
      error,
      record: { name, args: recordedArgs, result: { error }, ms: elapsed(started), ok: false },
    });

    const tool = this.tools.get(name);
    if (!tool) return fail({ code: 'unknown-tool', message: `no tool named ${name}` });

    const parsed = tool.input.safeParse(args);
    if (!parsed.success) {
      const message = parsed.error.issues
        .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'arguments'}: ${issue.message}`)
        .join('; ');
      return fail({ code: 'invalid-args', message });
    }

    const timeoutMs = tool.timeoutMs ?? this.options.defaultTimeoutMs ?? defaultToolTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    // Checked in this order: if both fired, the caller's abort (barge-in, hang-up) is the cause.
    const abortFailure = (): ToolFailure =>
      signal.aborted
        ? { code: 'aborted', message: `${name} was cancelled` }
        : { code: 'timeout', message: `${name} took longer than ${timeoutMs} ms` };

    if (combined.aborted) return fail(abortFailure());
    try {
      // A tool that ignores its signal still cannot hold the conversation past its timeout.
      const raced = await raceAbort(tool.run(parsed.data, { ...this.options.call, signal: combined }), combined);
      if (raced.aborted) return fail(abortFailure());
      const result = raced.value;
      return { ok: true, result, record: { name, args: recordedArgs, result, ms: elapsed(started), ok: true } };
    } catch (error) {
      if (error instanceof ToolError) return fail({ code: error.code, message: error.message });
      if (combined.aborted) return fail(abortFailure());
      this.options.onInternalError?.(name, error);
      return fail({ code: 'internal', message: `${name} failed unexpectedly` });
    }
  }
}


function asRecord(args: unknown): Record<string, unknown> {
  return typeof args === 'object' && args !== null && !Array.isArray(args)
    ? { ...(args as Record<string, unknown>) }
    : { value: args };
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
