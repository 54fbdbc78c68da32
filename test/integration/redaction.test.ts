import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { createRedactor } from '../../src/observability/redact.js';
import { AmplitudeVad, ScriptedBrain, ScriptedStt, WordLengthTts } from '../../testkit/fakes/scripted-engines.js';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { startTestServer, type TestServer } from '../../testkit/helpers/test-app.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const SPOKEN_PHONE = 'five five five one two three four five six seven';
const SECRETS = [SPOKEN_PHONE, '5551234567', '4111 1111 1111 1111', 'jane@example.com', '03/24/1980'];

describe('personal data never reaches stored records or logs', () => {
  it('redacts transcripts, tool calls, slots and log lines', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const redact = createRedactor({ cardNumbers: true, phoneNumbers: true, datesOfBirth: true, emails: true, custom: [] });
    const logger = createLogger('debug', redact, sink);
    const brain = new ScriptedBrain((input) => {
      if (input.type !== 'speech') return [{ type: 'text', text: 'Hello.' }];
      logger.info({ heard: input.text }, `caller said ${input.text}`);
      return [
        { type: 'text', text: `I heard ${input.text}.` },
        { type: 'tool-call', call: { name: 'book_appointment', args: { phone: '5551234567', email: 'jane@example.com' }, result: { ok: true }, ms: 3, ok: true } },
        { type: 'slots', slots: { phone: '5551234567', card: '4111 1111 1111 1111', dob: '03/24/1980' } },
      ];
    });
    server = await startTestServer({
      logger,
      engines: () => ({ vad: new AmplitudeVad(), stt: new ScriptedStt([`my number is ${SPOKEN_PHONE}`]), tts: new WordLengthTts(20), brain }),
    });
    const caller = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant' });
    await caller.start();
    await caller.waitFor(() => caller.count('media') > 0, 5000, 'greeting');
    await caller.speak(300);
    await caller.silence(400);
    await caller.waitFor(() => brain.inputs.length === 2, 5000, 'caller turn');
    // The live record is redacted too.
    const live = await server.app.fastify.inject({ url: `/calls/${caller.callSid}`, remoteAddress: '127.0.0.1' });
    caller.stop();
    await caller.waitFor(() => server!.app.context.calls.active === 0, 5000, 'call end');
    caller.close();
    await server.app.context.records.flush();

    const stored = readFileSync(join(server.dataDir, 'calls', `${caller.callSid}.json`), 'utf8');
    const served = (await server.app.fastify.inject({ url: `/calls/${caller.callSid}`, remoteAddress: '127.0.0.1' })).body;
    const logs = lines.join('');
    expect(stored).toContain('[phone]');
    expect(logs).toContain('caller said my number is [phone]');
    for (const text of [stored, served, live.body, logs]) {
      for (const secret of SECRETS) expect(text).not.toContain(secret);
    }
    // Identifiers survive.
    expect(stored).toContain(caller.callSid);
  });
});
