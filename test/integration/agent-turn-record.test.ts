/**
 * The call record's agent turns say what the caller heard. A reply abandoned before its first words
 * (the caller spoke again while the agent was still thinking) played nothing, so it leaves no agent
 * turn behind; before, it stayed in the record as an agent turn with empty text (issue 12: seen on
 * opening-hours questions whose recognition ran on past the question).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BrainEvent, BrainInput, BrainSession, BrainTurnOptions } from '../../src/dialog/brain.js';
import type { Brain } from '../../src/dialog/brain.js';
import type { AgentTurn, CallRecord } from '../../src/store/call-record.js';
import { AmplitudeVad, ScriptedStt, WordLengthTts } from '../../testkit/fakes/scripted-engines.js';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { startTestServer, type TestServer } from '../../testkit/helpers/test-app.js';

/** Answers "hours" only after a long think (so the caller speaks again first); everything else at once. */
class SlowHoursBrain implements Brain {
  readonly name = 'slow-hours-brain';
  readonly inputs: BrainInput[] = [];
  createSession(): BrainSession {
    return { turn: (input, options) => this.turn(input, options) };
  }
  private async *turn(input: BrainInput, options: BrainTurnOptions): AsyncIterable<BrainEvent> {
    this.inputs.push(input);
    if (input.type === 'call-start') return yield { type: 'text', text: 'Hello.' };
    if (input.type === 'speech' && input.text === 'what are your hours') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 3000);
        options.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      if (options.signal.aborted) return;
      return yield { type: 'text', text: 'We are open nine to five.' };
    }
    if (input.type === 'speech' && input.text === 'goodbye') {
      yield { type: 'text', text: 'Goodbye.' };
      return yield { type: 'end-call', reason: 'caller-goodbye' };
    }
    yield { type: 'text', text: 'We are open nine to five on weekdays.' };
  }
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('agent turns in the call record', () => {
  it('keep no empty agent turn for a reply abandoned before it said anything', async () => {
    const brain = new SlowHoursBrain();
    const stt = new ScriptedStt(['what are your hours', 'on saturday', 'goodbye']);
    server = await startTestServer({ engines: () => ({ vad: new AmplitudeVad(), stt, tts: new WordLengthTts(20, 20), brain }) });
    const caller = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant' });
    await caller.start();
    await caller.waitFor(() => caller.count('media') > 0, 5000, 'greeting audio');
    await caller.silence(300);

    await caller.speak(400);
    await caller.silence(800); // turn ends: the brain starts thinking about the hours
    await caller.waitFor(() => brain.inputs.length >= 2, 5000, 'first turn');
    await caller.speak(400); // the caller goes on before the agent said anything
    await caller.silence(800);
    await caller.waitFor(() => brain.inputs.length >= 3, 5000, 'second turn');
    await caller.silence(1500);
    await caller.speak(300);
    await caller.silence(800);
    await caller.closed();

    await server.app.context.records.flush();
    const res = await server.app.fastify.inject({ url: `/calls/${caller.callSid}`, remoteAddress: '127.0.0.1' });
    const record = res.json() as CallRecord;
    const agentTurns = record.turns.filter((t): t is AgentTurn => t.role === 'agent');
    expect(agentTurns.map((t) => t.text)).toEqual(['Hello.', 'We are open nine to five on weekdays.', 'Goodbye.']);
    for (const turn of agentTurns) expect(turn.text).not.toBe('');
    expect(record.turns.filter((t) => t.role === 'caller').map((t) => t.text)).toEqual(['what are your hours', 'on saturday', 'goodbye']);
  }, 30_000);
});
