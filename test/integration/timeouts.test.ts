import { afterEach, describe, expect, it } from 'vitest';
import type { AgentTurn } from '../../src/store/call-record.js';
import { AmplitudeVad, ScriptedBrain, ScriptedStt, WordLengthTts } from '../../testkit/fakes/scripted-engines.js';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { startTestServer, type TestServer } from '../../testkit/helpers/test-app.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('call timeouts', () => {
  it('inactivity: reprompts through the brain, then a polite goodbye and hang-up after it plays', async () => {
    const brain = new ScriptedBrain((input) => [{ type: 'text', text: input.type === 'no-input' ? 'Are you still there?' : 'Hello.' }]);
    server = await startTestServer({
      agent: { timeouts: { inactivityMs: 300, inactivityReprompts: 2 }, prompts: { goodbye: 'Goodbye for now.' } },
      engines: () => ({ vad: new AmplitudeVad(), stt: new ScriptedStt([]), tts: new WordLengthTts(40), brain }),
    });
    const caller = new FakeTwilioCaller({ url: server.wsUrl, playback: 'realtime' });
    await caller.start();
    expect(await caller.closed()).toBe(1000);
    expect(brain.inputs.map((i) => i.type)).toEqual(['call-start', 'no-input', 'no-input']);
    await server.app.context.records.flush();
    const record = (await server.app.context.records.get(caller.callSid))!;
    expect(record.endReason).toBe('inactivity');
    const last = record.turns.at(-1) as AgentTurn;
    expect(last).toMatchObject({ role: 'agent', text: 'Goodbye for now.', heardText: 'Goodbye for now.' });
  });

  it('max duration: the closing line plays and the call ends', async () => {
    server = await startTestServer({
      agent: { timeouts: { maxDurationMs: 400 }, prompts: { maxDuration: 'Time is up.' } },
      engines: () => ({
        vad: new AmplitudeVad(),
        stt: new ScriptedStt([]),
        tts: new WordLengthTts(60),
        brain: new ScriptedBrain(() => [{ type: 'text', text: 'Hello.' }]),
      }),
    });
    const caller = new FakeTwilioCaller({ url: server.wsUrl, playback: 'realtime' });
    await caller.start();
    expect(await caller.closed()).toBe(1000);
    await server.app.context.records.flush();
    const record = (await server.app.context.records.get(caller.callSid))!;
    expect(record.endReason).toBe('max-duration');
    expect(record.turns.at(-1)).toMatchObject({ text: 'Time is up.', heardText: 'Time is up.' });
  });

  it('the hang-up waits for the goodbye mark, but not forever', async () => {
    const brain = new ScriptedBrain((input) =>
      input.type === 'dtmf' ? [{ type: 'text', text: 'Bye now.' }, { type: 'end-call', reason: 'caller-goodbye' }] : [{ type: 'text', text: 'Hi.' }],
    );
    server = await startTestServer({
      agent: { timeouts: { hangupMarkTimeoutMs: 300 } },
      engines: () => ({ vad: new AmplitudeVad(), stt: new ScriptedStt([]), tts: new WordLengthTts(60), brain }),
    });
    // This peer never echoes marks: the final mark never comes back.
    const caller = new FakeTwilioCaller({ url: server.wsUrl, playback: 'never-echo' });
    await caller.start();
    await caller.waitFor(() => caller.count('media') > 0, 5000, 'greeting');
    caller.dtmf('9');
    const started = Date.now();
    expect(await caller.closed()).toBe(1000);
    // The cap is the unplayed audio plus hangupMarkTimeoutMs; well under the test's timeout.
    expect(Date.now() - started).toBeLessThan(5000);
    await server.app.context.records.flush();
    expect((await server.app.context.records.get(caller.callSid))?.endReason).toBe('caller-goodbye');
  });
});
