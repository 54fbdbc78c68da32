/**
 * Turn-taking over the media WebSocket with the real offline engines (Silero VAD, pocketsphinx,
 * flow brain, flite): a caller who pauses mid-sentence is waited for, a backchannel or a cough over
 * the agent does not stop it for good (the reply resumes and is recorded as resumed), and real words
 * still interrupt it. Caller voices differ from the agent's (flite kal).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../src/config/load-agent-config.js';
import { loadServerConfig } from '../../src/config/env.js';
import type { CallSession } from '../../src/dialog/call-session.js';
import { isYesNoQuestion } from '../../src/dialog/agent-voice.js';
import { splitSentences } from '../../src/util/sentences.js';
import { createEngines, type EngineSet } from '../../src/engines.js';
import { pcm16ToMulaw } from '../../src/speech/audio-convert.js';
import type { AgentTurn, CallerTurn } from '../../src/store/call-record.js';
import { callerMulaw, coughPcm, withoutTrailingSilence } from '../../testkit/helpers/caller-audio.js';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { until } from '../../testkit/helpers/process.js';
import { startTestServer, type TestServer } from '../../testkit/helpers/test-app.js';

const agent = loadAgentConfig('config/agent.yaml');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let dataDir: string;
let engines: EngineSet;
let server: TestServer;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'turns-call-'));
  const config = loadServerConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  engines = await createEngines({ config, agent, logger: pino({ level: 'silent' }) });
  server = await startTestServer({ dataDir, agentConfig: agent, engines: (call) => engines.forCall(call) });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await engines?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(pacing: 'on-demand' | 'continuous' = 'on-demand'): Promise<{ twilio: FakeTwilioCaller; session: CallSession }> {
  const twilio = new FakeTwilioCaller({ url: server.wsUrl, playback: 'realtime', from: '+15551234567', pacing });
  await twilio.start();
  await until(() => twilio.count('media') > 0, 'greeting audio');
  return { twilio, session: server.app.context.calls.session(twilio.callSid)! };
}

const agentTurns = (s: CallSession) => s.record.turns.filter((t): t is AgentTurn => t.role === 'agent');
const callerTurns = (s: CallSession) => s.record.turns.filter((t): t is CallerTurn => t.role === 'caller');

async function hangUp(c: { twilio: FakeTwilioCaller; session: CallSession }): Promise<void> {
  c.twilio.stop();
  await until(() => c.session.isEnded, 'end');
  c.twilio.close();
}

describe('turn-taking on the offline engines', () => {
  it.each([
    ['a backchannel', () => callerMulaw('okay', 'rms', 0)],
    ['a cough', () => pcm16ToMulaw(coughPcm(400))],
  ])('%s over the greeting: the agent resumes and the caller hears it all', async (_name, sound) => {
    const c = await call();
    await c.twilio.silence(1200); // some of the greeting plays
    await c.twilio.sendMulaw(sound());
    await c.twilio.silence(300);
    await until(() => c.session.phase === 'listening', 'greeting finished', 30_000);
    const greeting = agentTurns(c.session)[0]!;
    const record = c.session.record;
    expect(record.bargeIns).toBe(0);
    expect(callerTurns(c.session)).toHaveLength(0);
    expect(greeting.interrupted).toBe(false);
    expect(greeting.heardText).toBe(greeting.text);
    // Held and resumed (a clear on the wire), or never stopped at all: either way not interrupted.
    if (c.twilio.count('clear') > 0) expect(greeting.resumes).toBe(1);
    await hangUp(c);
  });

  it('waits through a pause after an unfinished phrase and answers the whole sentence', async () => {
    const c = await call();
    await until(() => c.session.phase === 'listening', 'greeting played', 30_000);
    await c.twilio.sendMulaw(callerMulaw('i would like to', 'slt', 0));
    await c.twilio.silence(750); // a breath, longer than the normal end-of-turn silence
    expect(agentTurns(c.session)).toHaveLength(1); // nothing said yet
    await c.twilio.sendMulaw(callerMulaw('book an appointment', 'slt', 0));
    await c.twilio.silence(800);
    await until(() => agentTurns(c.session).length === 2 && c.session.phase === 'listening', 'the answer');
    expect(callerTurns(c.session).map((t) => t.text)).toEqual(['i would like to book an appointment']);
    expect(agentTurns(c.session)[1]!.text).toMatch(/what day/i);
    await hangUp(c);
  });

  it('a real interruption over the greeting still stops it and is answered', async () => {
    const c = await call();
    await c.twilio.silence(800);
    await c.twilio.sendMulaw(callerMulaw('cancel my appointment', 'rms', 0));
    await c.twilio.silence(700);
    await until(() => c.session.record.bargeIns === 1, 'interruption');
    expect(c.twilio.count('clear')).toBe(1);
    const greeting = agentTurns(c.session)[0]!;
    expect(greeting.interrupted).toBe(true);
    expect(greeting.resumes ?? 0).toBe(0);
    await until(() => callerTurns(c.session).length === 1 && c.session.phase === 'listening', 'answer');
    expect(callerTurns(c.session)[0]!.text).toBe('cancel my appointment');
    await hangUp(c);
  });
});

describe("a yes over the agent's own yes/no question", () => {
  /** Says `text` once the agent is listening, and waits for its reply to start. */
  async function answer(c: { twilio: FakeTwilioCaller; session: CallSession }, text: string): Promise<void> {
    await until(() => c.session.phase === 'listening', 'the agent listening', 30_000);
    const before = agentTurns(c.session).length;
    await c.twilio.sendMulaw(callerMulaw(text, 'slt', 0));
    await c.twilio.silence(300);
    await until(() => agentTurns(c.session).length > before, `the reply to ${text}`, 30_000);
  }

  it('answers it: the question is cut off and the yes is the caller turn, not a backchannel', async () => {
    const c = await call();
    for (const text of ['book an appointment', 'next tuesday', 'ten thirty a m']) await answer(c, text);
    await until(() => c.session.phase === 'listening', 'the agent listening', 30_000);
    const since = Date.now(); // the question's audio is what comes after this
    await answer(c, 'riley');
    // The reply is the phone-number question ("Should we use the number you are calling from…?",
    // checked below: the record has its text once played); talk 1.5 s into it, while it plays.
    const media = () => c.twilio.received.filter((m) => m.event === 'media' && m.at >= since);
    await until(() => media().length > 0, 'the question playing');
    await until(() => Date.now() >= media()[0]!.at + 1500, 'a second and a half of the question');
    expect(c.session.phase).toBe('speaking');
    const callerTurnsBefore = callerTurns(c.session).length;
    await c.twilio.sendMulaw(callerMulaw('yes', 'rms', 0));
    await c.twilio.silence(800);
    await until(() => callerTurns(c.session).length > callerTurnsBefore, 'the yes as a caller turn', 15_000);
    expect(callerTurns(c.session).at(-1)!.text).toBe('yes');
    const asking = agentTurns(c.session).findLast((t) => t.text.includes('calling from'))!;
    expect(isYesNoQuestion(splitSentences(asking.text).at(-1)!)).toBe(true);
    expect(asking.heardText.length).toBeLessThan(asking.text.length);
    expect(c.twilio.count('clear')).toBeGreaterThanOrEqual(1);
    expect(asking.interrupted).toBe(true);
    expect(asking.resumes ?? 0).toBe(0);
    expect(c.session.record.bargeIns).toBe(1);
    await hangUp(c);
  }, 120_000);
});

describe('a caller who talks over the goodbye', () => {
  it('hears the goodbye again and the call ends, not an agent gone silent until the inactivity timeout', async () => {
    const c = await call();
    await until(() => c.session.phase === 'listening', 'greeting played', 30_000);
    const since = Date.now();
    await c.twilio.sendMulaw(callerMulaw('goodbye', 'slt', 0));
    await c.twilio.silence(300);
    const media = () => c.twilio.received.filter((m) => m.event === 'media' && m.at >= since);
    await until(() => media().length > 0, 'the goodbye playing', 15_000);
    await until(() => Date.now() >= media()[0]!.at + 800, 'some of the goodbye');
    await c.twilio.sendMulaw(callerMulaw('what are your opening hours', 'rms', 0));
    const spokeAt = Date.now();
    await c.twilio.silence(600);
    await until(() => c.session.isEnded, 'the call to end', 20_000);
    expect(Date.now() - spokeAt).toBeLessThan(agent.timeouts.inactivityMs);
    expect(c.session.record.endReason).toBe('caller-goodbye');
    expect(c.session.record.bargeIns).toBe(1);
    c.twilio.close();
  }, 60_000);
});

describe('the offline path ends the caller turn with continuous silence and with a quiet wire', () => {
  it.each(['continuous', 'on-demand'] as const)('%s pacing: a whole request is answered soon after its last word', async (pacing) => {
    const c = await call(pacing);
    await until(() => c.session.phase === 'listening', 'greeting played', 30_000);
    const words = callerMulaw('cancel my appointment', 'slt', 0);
    // On-demand: nothing at all after the last word; continuous: Twilio's silence frames follow.
    await c.twilio.sendMulaw(pacing === 'continuous' ? words : withoutTrailingSilence(words));
    await until(() => callerTurns(c.session).length === 1, 'the caller turn ended', 15_000);
    const turn = callerTurns(c.session)[0]!;
    expect(turn.text).toBe('cancel my appointment');
    // The turn ends on time whether or not silence frames come: at the latest after the wait for
    // words still being decoded (how much sooner depends on the decoders' load, so not asserted).
    expect(turn.metrics.endpointMs).toBeLessThanOrEqual(agent.turn.incompleteSilenceMs + 300);
    await until(() => agentTurns(c.session).length === 2 && c.session.phase === 'listening', 'the answer', 30_000);
    await hangUp(c);
  });
});
