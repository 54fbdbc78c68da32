/**
 * Puts an in-memory clinic behind the real tool path: each clinic tool becomes a `Tool` (validated
 * by the real schemas, bounded by the real ToolRunner's timeout) and brains get the real gated
 * invoker over it, exactly as the server wires them. Only the clinic is fake.
 */
import type { AgentConfig } from '../../src/config/agent-schema.js';
import { GatedToolInvoker, type ToolInvokerFactory, type ToolOutcome } from '../../src/dialog/tool-invoker.js';
import { clinicToolInputs, type ClinicToolName } from '../../src/tools/calendar-schemas.js';
import { ToolRunner } from '../../src/tools/registry.js';
import type { Tool } from '../../src/tools/tool.js';
import { ToolError } from '../../src/tools/tool-error.js';

/** What the fakes implement: one function for all clinic tools. */
export interface ClinicBackend {
  call(name: ClinicToolName, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutcome>;
}

export function asTools(backend: ClinicBackend): Tool[] {
  return (Object.keys(clinicToolInputs) as ClinicToolName[]).map((name) => ({
    name,
    description: `fake ${name}`,
    input: clinicToolInputs[name],
    async run(args: Record<string, unknown>, { signal }: { signal: AbortSignal }) {
      const outcome = await backend.call(name, args, signal);
      if (outcome.ok) return outcome.result;
      throw new ToolError(outcome.error.code, outcome.error.message);
    },
  }));
}

export interface GatedToolsOptions {
  /** The runner's timeout for these tools, ms (the real tools declare 2000, transfer 5000). */
  timeoutMs?: number;
  monotonicMs?: () => number;
}

export function gatedTools(config: AgentConfig, backend: ClinicBackend, options: GatedToolsOptions = {}): ToolInvokerFactory {
  return (call) =>
    new GatedToolInvoker({
      config,
      runner: new ToolRunner({
        tools: asTools(backend),
        call: { callSid: call.callSid, from: call.from },
        ...(options.timeoutMs !== undefined ? { defaultTimeoutMs: options.timeoutMs } : {}),
      }),
      ...(options.monotonicMs ? { monotonicMs: options.monotonicMs } : {}),
    });
}
