/**
 * Calls recorded as fixtures (agent `recording.enabled`): what lands on disk, and that personal data
 * does not: the caller turn that said a phone number is silence in the fixture, and no text in it
 * (events, record, the caller id) holds the number.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadFixture } from '../../src/recording/fixture-format.js';
import { AmplitudeVad, ScriptedBrain, ScriptedStt, WordLengthTts } from '../../testkit/fakes/scripted-engines.js';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { startTestServer, type TestServer } from '../../testkit/helpers/test-app.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const SPOKEN_PHONE = 'five five five zero one zero one two three four';
const CALLER_ID = '+15550101234';

async function recordCall(maskCallerAudio: boolean) {
  const brain = new ScriptedBrain((input) => {
    if (input.type !== 'speech') return [{ type: 'text', text: 'Hello.' }];
    return [
      { type: 'text', text: 'Thanks.' },
      { type: 'slots', slots: { phone: '5550101234' } },
    ];
  });
  server = await startTestServer({
    agent: { recording: { enabled: true, maskCallerAudio } },
    engines: () => ({ vad: new AmplitudeVad(), stt: new ScriptedStt([`my number is ${SPOKEN_PHONE}`]), tts: new WordLengthTts(20), brain }),
  });
  const caller = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant', from: CALLER_ID });
  await caller.start();
  await caller.waitFor(() => caller.count('media') > 0, 5000, 'greeting');
  await caller.silence(200, true);
  await caller.speak(400, true); // loud frames: the turn that "says" the number
  await caller.silence(600, true);
  await caller.waitFor(() => brain.inputs.length === 2, 5000, 'caller turn');
  await caller.dtmf('5');
  caller.stop();
  await caller.waitFor(() => server!.app.context.calls.active === 0, 5000, 'call end');
  caller.close();
  await caller.closed();
  await server.app.drain(1000);
  const dir = join(server.dataDir, 'recordings', caller.callSid);
  await caller.waitFor(() => readdirSync(join(server!.dataDir, 'recordings')).length > 0, 5000, 'recording');
  await caller.waitFor(() => { try { return readdirSync(dir).includes('events.jsonl'); } catch { return false; } }, 5000, 'events.jsonl');
  return { dir, callSid: caller.callSid };
}

describe('call recording', () => {
  it('writes the inbound stream, the agent audio and the redacted record as a fixture', async () => {
    const { dir, callSid } = await recordCall(false);
    const fixture = loadFixture(dir);
    expect(fixture.header.callSid).toBe(callSid);
    expect(fixture.header.from).toBe(CALLER_ID); // masking off: kept so the call replays
    const kinds = new Set(fixture.events.map((e) => `${e.dir}:${e.ev}`));
    for (const kind of ['in:connected', 'in:start', 'in:audio', 'in:silence', 'in:dtmf', 'in:mark', 'in:stop', 'out:media', 'out:mark']) {
      expect(kinds).toContain(kind);
    }
    const outBytes = fixture.events.reduce((n, e) => n + (e.dir === 'out' && e.ev === 'media' ? e.bytes : 0), 0);
    expect(readFileSync(join(dir, 'agent.ulaw')).length).toBe(outBytes);
    expect(fixture.record?.turns.some((t) => t.role === 'caller' && t.text.includes('[phone]'))).toBe(true);
    // Times only go forward.
    const times = fixture.events.map((e) => e.t);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('masks the caller audio of a turn that carried a phone number, and no text keeps the number', async () => {
    const { dir } = await recordCall(true);
    const fixture = loadFixture(dir);
    expect(fixture.header.maskedRanges.length).toBe(1);
    // The only loud audio was that turn: nothing but silence is left.
    expect(fixture.events.filter((e) => e.ev === 'audio')).toEqual([]);
    const text = ['events.jsonl', 'record.json'].map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    for (const secret of [SPOKEN_PHONE, '5550101234', CALLER_ID, '15550101234']) expect(text).not.toContain(secret);
    expect(text).toContain('[phone]');
  });
});
