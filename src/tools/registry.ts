/**
 * Runs tools by name for one call: validates the arguments with the tool's schema, bounds the run
 * by the tool's timeout and the caller's AbortSignal, and turns every outcome into a result the
 * dialog can speak from. It never throws. Brains never hold one: they run tools through the
 * gated invoker (dialog/tool-invoker.ts), which puts the confirm gate in front of it and records
 * each run.
 */
import type { Tool, ToolContext } from './tool.js';
import type { ToolFailure, ToolOutcome } from './tool-call-record.js';
import { ToolError } from './tool-error.js';
import { raceAbort } from '../util/abort.js';

export type { ToolFailure, ToolOutcome } from './tool-call-record.js';

export const defaultToolTimeoutMs = 2000;

/** What executes a tool: the ToolRunner below. The gated invoker depends on this much of it. */
export interface ToolExecutor {
  call(name: string, args: unknown, signal: AbortSignal): Promise<ToolOutcome>;
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

export class ToolRunner implements ToolExecutor {
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

  async call(name: string, args: unknown, signal: AbortSignal): Promise<ToolOutcome> {
    const fail = (error: ToolFailure): ToolOutcome => ({ ok: false, error });

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
      return { ok: true, result: raced.value };
    } catch (error) {
      if (error instanceof ToolError) return fail({ code: error.code, message: error.message });
      if (combined.aborted) return fail(abortFailure());
      this.options.onInternalError?.(name, error);
      return fail({ code: 'internal', message: `${name} failed unexpectedly` });
    }
  }
}
