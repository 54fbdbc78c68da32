import { afterEach, describe, expect, it } from 'vitest';
import type { BrainInput } from '../../src/dialog/brain.js';
import type { AgentTurn, CallerTurn, CallRecord } from '../../src/store/call-record.js';
import { AmplitudeVad, ScriptedBrain, ScriptedStt, WordLengthTts } from '../../testkit/fakes/scripted-engines.js';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { startTestServer, type TestServer } from '../../testkit/helpers/test-app.js';

const LONG_REPLY =
  'Sure, I can help you book an appointment. We have openings on Tuesday morning, Wednesday afternoon, and Thursday at any time. ' +
  'Which of those days would suit you best, and would you prefer the morning or the afternoon?';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function reply(input: BrainInput) {
  switch (input.type) {
    case 'call-start':
      return [{ type: 'text' as const, text: 'Hello, thanks for calling. How can I help?' }];
    case 'speech':
      if (input.text === 'goodbye') {
        return [{ type: 'text' as const, text: 'Goodbye.' }, { type: 'end-call' as const, reason: 'caller-goodbye' }];
      }
      if (input.text.startsWith('book')) return [{ type: 'text' as const, text: LONG_REPLY }];
      return [{ type: 'text' as const, text: `You said ${input.text}.` }];
    default:
      return [{ type: 'text' as const, text: 'Sorry?' }];
  }
}

describe('a whole call over the media WebSocket', () => {
  it('greets, answers, is interrupted by a barge-in, and hangs up after the goodbye plays', async () => {
    const vad = new AmplitudeVad();
    const stt = new ScriptedStt(['book an appointment', 'wait', 'goodbye']);
    const tts = new WordLengthTts(60, 8); // synthesis at ~2.5× real time: still in flight at the barge-in
    const brain = new ScriptedBrain(reply);
    server = await startTestServer({ engines: () => ({ vad, stt, tts, brain }) });
    const caller = new FakeTwilioCaller({ url: server.wsUrl, playback: 'realtime' });
    await caller.start();

    // Greeting starts without waiting for the caller and plays through (its final mark comes back).
    await caller.waitFor(() => caller.count('media') > 0, 5000, 'greeting audio');
    await caller.waitFor(() => server!.app.context.calls.active === 1 && caller.playedAudioMs >= 8 * 60, 5000, 'greeting played');
    await caller.silence(200);

    // Turn 1: speech then silence → transcript → long reply.
    const mediaBefore = caller.count('media');
    await caller.speak(400);
    await caller.silence(400);
    await caller.waitFor(() => caller.count('media') > mediaBefore, 5000, 'reply audio');

    // Barge in while the long reply is still playing.
    await caller.speak(300);
    await caller.waitFor(() => caller.count('clear') === 1, 5000, 'clear');
    await caller.silence(400);
    await caller.waitFor(() => brain.inputs.length >= 3, 5000, 'second caller turn');
    // Let the short answer play, then say goodbye.
    await caller.silence(600);
    await caller.speak(300);
    await caller.silence(400);
    const code = await caller.closed();
    expect(code).toBe(1000);

    await server.app.context.records.flush();
    const res = await server.app.fastify.inject({ url: `/calls/${caller.callSid}`, remoteAddress: '127.0.0.1' });
    expect(res.statusCode).toBe(200);
    const record = res.json() as CallRecord;
    expect(record.streamSid).toBe(caller.streamSid);
    expect(record.from).toBe('+15551230000');
    expect(record.endReason).toBe('caller-goodbye');
    expect(record.engines).toMatchObject({ stt: 'test-stt', llm: 'test-brain', tts: 'test-tts' });
    expect(record.bargeIns).toBe(1);

    const agentTurns = record.turns.filter((t): t is AgentTurn => t.role === 'agent');
    const callerTurns = record.turns.filter((t): t is CallerTurn => t.role === 'caller');
    expect(callerTurns.map((t) => t.text)).toEqual(['book an appointment', 'wait', 'goodbye']);
    expect(agentTurns[0]).toMatchObject({ interrupted: false, heardText: 'Hello, thanks for calling. How can I help?' });
    const interrupted = agentTurns[1]!;
    expect(interrupted.interrupted).toBe(true);
    expect(interrupted.text).toContain('Sure, I can help');
    expect(interrupted.heardText.length).toBeLessThan(LONG_REPLY.length);
    expect(LONG_REPLY.startsWith(interrupted.heardText)).toBe(true);
    expect(brain.interruptions).toEqual([interrupted.heardText]);
    expect(agentTurns.at(-1)).toMatchObject({ text: 'Goodbye.', heardText: 'Goodbye.', interrupted: false });
    for (const turn of callerTurns) {
      expect(turn.metrics.ttfaMs).toBeGreaterThan(0);
      expect(turn.metrics.endpointMs).toBeGreaterThanOrEqual(280);
      expect(turn.metrics.sttMs).toBeGreaterThanOrEqual(0);
      expect(turn.metrics.llmFirstTokenMs).toBeGreaterThanOrEqual(0);
      expect(turn.metrics.ttsFirstByteMs).toBeGreaterThanOrEqual(0);
    }
    // The interrupted reply's brain turn and synthesis were aborted.
    expect(tts.aborted).toBeGreaterThanOrEqual(1);

    // Nothing outlives the call.
    expect(server.app.context.calls.active).toBe(0);
    expect(vad.streamsOpen).toBe(0);
    expect(stt.streamsOpen).toBe(0);

    const metrics = await server.app.fastify.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/voice_barge_ins_total 1/);
    expect(metrics.body).toMatch(/voice_ttfa_seconds_count 3/);
  });

  it('stop ends the call, aborts in-flight work and writes the record', async () => {
    const tts = new WordLengthTts(200, 10);
    const brain = new ScriptedBrain(() => [{ type: 'text', text: LONG_REPLY }]);
    const vad = new AmplitudeVad();
    const stt = new ScriptedStt([]);
    server = await startTestServer({ engines: () => ({ vad, stt, tts, brain }) });
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();
    const caller = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant' });
    await caller.start();
    await caller.waitFor(() => caller.count('media') > 0, 5000, 'greeting audio');
    expect(timers()).toBeGreaterThan(timersBefore); // the session's max-duration timer, at least
    caller.stop();
    await caller.waitFor(() => server!.app.context.calls.active === 0, 5000, 'call ended');
    caller.close();
    await server.app.context.records.flush();
    const record = (await server.app.context.records.get(caller.callSid))!;
    expect(record.endReason).toBe('caller-hangup');
    expect(record.endedAt).not.toBeNull();
    expect(vad.streamsOpen).toBe(0);
    expect(stt.streamsOpen).toBe(0);
    await caller.waitFor(() => tts.aborted === 1, 2000, 'tts aborted');
    // No timer of the call outlives it (waitFor's own polling timer is gone once it resolves).
    await new Promise((r) => setImmediate(r));
    expect(timers()).toBeLessThanOrEqual(timersBefore);
  });
});
