import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Tool, ToolContext } from '../../../src/tools/tool.js';
import { ToolError } from '../../../src/tools/tool-error.js';
import { ToolRunner, type ToolOutcome } from '../../../src/tools/registry.js';

/** A tool whose behaviour each test scripts, and which remembers what it was given. */
class ScriptedTool implements Tool<{ n: number }, unknown> {
  readonly description = 'scripted';
  readonly input = z.object({ n: z.number().int() }).strict();
  runs: { args: { n: number }; context: ToolContext }[] = [];
  constructor(
    readonly name: string,
    private readonly behaviour: (args: { n: number }, context: ToolContext) => Promise<unknown>,
    readonly timeoutMs?: number,
  ) {}
  run(args: { n: number }, context: ToolContext): Promise<unknown> {
    this.runs.push({ args, context });
    return this.behaviour(args, context);
  }
}

/** Resolves when `signal` aborts: a tool that only ends when told to stop. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

const callContext = { callSid: 'CA42', from: '+15550001111' };
const never = () => new AbortController().signal;

function expectFailure(outcome: ToolOutcome, code: string) {
  expect(outcome.ok).toBe(false);
  if (outcome.ok) throw new Error('unreachable');
  expect(outcome.error.code).toBe(code);
  return outcome.error;
}

describe('ToolRunner', () => {
  it('runs a tool with parsed args and the call context', async () => {
    const double = new ScriptedTool('double', async ({ n }) => ({ doubled: n * 2 }));
    const runner = new ToolRunner({ tools: [double], call: callContext });
    const outcome = await runner.call('double', { n: 21 }, never());
    expect(outcome).toEqual({ ok: true, result: { doubled: 42 } });
    expect(double.runs[0]?.context).toMatchObject(callContext);
    expect(double.runs[0]?.context.signal).toBeInstanceOf(AbortSignal);
  });

  it('rejects unknown tools and duplicate names', async () => {
    const runner = new ToolRunner({ tools: [], call: callContext });
    expectFailure(await runner.call('nope', {}, never()), 'unknown-tool');
    const tool = new ScriptedTool('same', async () => null);
    expect(() => new ToolRunner({ tools: [tool, tool], call: callContext })).toThrow(/duplicate/);
  });

  it('rejects invalid arguments naming the field, without running the tool', async () => {
    const tool = new ScriptedTool('t', async () => null);
    const runner = new ToolRunner({ tools: [tool], call: callContext });
    expect(expectFailure(await runner.call('t', { n: 'seven' }, never()), 'invalid-args').message).toMatch(/^n: /);
    expect(expectFailure(await runner.call('t', { n: 1, extra: true }, never()), 'invalid-args').message).toContain(
      'extra',
    );
    expectFailure(await runner.call('t', 'n=1', never()), 'invalid-args');
    expect(tool.runs).toHaveLength(0);
  });

  it('passes ToolError codes through and hides unexpected errors as internal', async () => {
    const seen: unknown[] = [];
    const runner = new ToolRunner({
      tools: [
        new ScriptedTool('taken', async () => {
          throw new ToolError('slot-taken', 'that time is taken');
        }),
        new ScriptedTool('broken', async () => {
          throw new Error('SQLITE_CORRUPT: secret details');
        }),
      ],
      call: callContext,
      onInternalError: (name, error) => seen.push([name, error]),
    });
    expect(expectFailure(await runner.call('taken', { n: 1 }, never()), 'slot-taken').message).toBe(
      'that time is taken',
    );
    const internal = expectFailure(await runner.call('broken', { n: 1 }, never()), 'internal');
    expect(internal.message).not.toContain('secret');
    expect(seen).toEqual([['broken', expect.any(Error)]]);
  });

  it('times a tool out and aborts its signal so it stops', async () => {
    const slow = new ScriptedTool('slow', (_args, { signal }) => untilAborted(signal), 50);
    const runner = new ToolRunner({ tools: [slow], call: callContext });
    const outcome = await runner.call('slow', { n: 1 }, never());
    expect(expectFailure(outcome, 'timeout').message).toContain('50 ms');
    expect(slow.runs[0]?.context.signal.aborted).toBe(true);
  });

  it('applies the default timeout even to a tool that ignores its signal', async () => {
    const stuck = new ScriptedTool('stuck', () => new Promise(() => {}));
    const runner = new ToolRunner({ tools: [stuck], call: callContext, defaultTimeoutMs: 50 });
    expectFailure(await runner.call('stuck', { n: 1 }, never()), 'timeout');
  });

  it("stops a running tool when the caller's signal aborts (barge-in, hang-up)", async () => {
    const slow = new ScriptedTool('slow', (_args, { signal }) => untilAborted(signal), 60_000);
    const runner = new ToolRunner({ tools: [slow], call: callContext });
    const bargeIn = new AbortController();
    const pending = runner.call('slow', { n: 1 }, bargeIn.signal);
    bargeIn.abort();
    expectFailure(await pending, 'aborted');
    expect(slow.runs[0]?.context.signal.aborted).toBe(true);
  });

  it('does not start a tool when the signal has already aborted', async () => {
    const tool = new ScriptedTool('t', async () => null);
    const runner = new ToolRunner({ tools: [tool], call: callContext });
    expectFailure(await runner.call('t', { n: 1 }, AbortSignal.abort()), 'aborted');
    expect(tool.runs).toHaveLength(0);
  });
});
