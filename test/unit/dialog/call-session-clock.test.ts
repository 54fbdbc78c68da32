/**
 * A whole CallSession on a simulated clock: every timer (inactivity, the end of the caller's turn on
 * a quiet wire, the keypad pause) and every record timestamp comes from the injected scheduler, so
 * the call is driven by events and `advance`, like the turn machine.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../src/config/load-agent-config.js';
import { CallSession } from '../../../src/dialog/call-session.js';
import { Metrics } from '../../../src/observability/metrics.js';
import type { AgentTurn, CallerTurn } from '../../../src/store/call-record.js';
import { ScriptedBrain, ScriptedStt, scriptedEngines } from '../../../testkit/fakes/scripted-engines.js';
import { ManualScheduler } from '../../../testkit/helpers/manual-scheduler.js';

const base = loadAgentConfig('config/agent.yaml');
const agent = { ...base, timeouts: { ...base.timeouts, inactivityMs: 8000, inactivityReprompts: 1 } };
const flush = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

function call() {
  const scheduler = new ManualScheduler();
  const stt = new ScriptedStt(['i would like to book an appointment']);
  const brain = new ScriptedBrain((input) => [{ type: 'text', text: input.type === 'call-start' ? 'Hello, how can I help?' : `Heard ${input.type}.` }]);
  const marks: string[] = [];
  let closed = false;
  const session: CallSession = new CallSession({
    callSid: 'CA1', streamSid: 'MZ1', from: '+15550001111', to: '+15550002222',
    agent, engines: scriptedEngines({ stt, brain }),
    transport: { sendMedia: () => undefined, sendMark: (name) => marks.push(name), sendClear: () => undefined, close: () => (closed = true) },
    logger: pino({ level: 'silent' }), metrics: new Metrics(), scheduler,
  });
  /** Twilio plays everything at once: echo every mark sent so far. */
  const echo = async () => {
    await flush();
    for (const name of marks.splice(0)) session.onMark(name);
    await flush();
  };
  return { scheduler, session, brain, echo, isClosed: () => closed };
}

describe('a call session on a simulated clock', () => {
  it('greets, reprompts after the inactivity time, and hangs up after the last reprompt', async () => {
    const c = call();
    c.session.start();
    await c.echo();
    expect(c.session.phase).toBe('listening');
    c.scheduler.advance(7999);
    await c.echo();
    expect(c.brain.inputs.map((i) => i.type)).toEqual(['call-start']);
    c.scheduler.advance(1);
    await c.echo();
    expect(c.brain.inputs.map((i) => i.type)).toEqual(['call-start', 'no-input']);
    c.scheduler.advance(8000);
    await c.echo();
    await c.echo();
    expect(c.session.isEnded).toBe(true);
    expect(c.isClosed()).toBe(true);
    expect(c.session.record.endReason).toBe('inactivity');
    // Timestamps are the simulated wall clock's: 16 s after its start.
    expect(c.session.record.startedAt).toBe('2026-01-05T09:00:00.000Z');
    expect(c.session.record.endedAt).toBe('2026-01-05T09:00:16.000Z');
  });

  it('the caller speaks and the wire goes quiet: the turn ends after the end-of-turn silence, in simulated time', async () => {
    const c = call();
    c.session.start();
    await c.echo();
    const loud = new Uint8Array(160).fill(0x00);
    for (let i = 0; i < 40; i++) {
      c.session.onAudio(loud);
      await flush();
      c.scheduler.advance(20);
    }
    c.scheduler.advance(agent.turn.endSilenceMs - 40);
    await c.echo();
    expect(c.session.record.turns.filter((t) => t.role === 'caller')).toHaveLength(0);
    c.scheduler.advance(60);
    await c.echo();
    const caller = c.session.record.turns.find((t): t is CallerTurn => t.role === 'caller')!;
    expect(caller.text).toBe('i would like to book an appointment');
    expect(caller.metrics.endpointMs).toBeGreaterThanOrEqual(agent.turn.endSilenceMs);
    expect(caller.metrics.endpointMs).toBeLessThanOrEqual(agent.turn.endSilenceMs + 40);
    expect((c.session.record.turns.at(-1) as AgentTurn).text).toBe('Heard speech.');
    c.session.end('caller-hangup');
    expect(c.scheduler.timers).toBe(0);
  });
});
