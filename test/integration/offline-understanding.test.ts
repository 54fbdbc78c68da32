/**
 * Whole offline calls over the media WebSocket where the caller does not say what the step's
 * grammar expects: natural phrasings, requests out of order, slot answers with extra words. The
 * caller's voices are not the agent's (flite slt/rms through a band-limited, noisy μ-law line).
 * The agent must do the right thing or ask, never act on something else.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../src/config/load-agent-config.js';
import { loadServerConfig } from '../../src/config/env.js';
import type { CallSession } from '../../src/dialog/call-session.js';
import { createEngines, type EngineSet } from '../../src/engines.js';
import type { AgentTurn, CallerTurn } from '../../src/store/call-record.js';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { PHONE_VOICES, phoneLineMulaw, type PhoneVoice } from '../../testkit/helpers/phone-voices.js';
import { until } from '../../testkit/helpers/process.js';
import { startTestServer, type TestServer } from '../../testkit/helpers/test-app.js';

const agent = loadAgentConfig('config/agent.yaml');
const voice = (id: string): PhoneVoice => PHONE_VOICES.find((v) => v.id === id)!;
let dataDir: string;
let engines: EngineSet;
let server: TestServer;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'offline-understanding-'));
  const config = loadServerConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  engines = await createEngines({ config, agent, logger: pino({ level: 'silent' }) });
  server = await startTestServer({ dataDir, agentConfig: agent, engines: (call) => engines.forCall(call) });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await engines?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

class Caller {
  readonly twilio: FakeTwilioCaller;
  session!: CallSession;
  constructor(private readonly voice: PhoneVoice) {
    this.twilio = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant', from: '+15551234567' });
  }
  async start(): Promise<string> {
    await this.twilio.start();
    await until(() => server.app.context.calls.session(this.twilio.callSid) !== undefined, 'session');
    this.session = server.app.context.calls.session(this.twilio.callSid)!;
    return this.awaitReply(0);
  }
  async say(text: string): Promise<string> {
    await until(() => this.session.phase === 'listening' || this.session.isEnded, 'agent to listen');
    const before = this.session.record.turns.length;
    await this.twilio.sendMulaw(phoneLineMulaw(text, this.voice), true);
    await this.twilio.silence(800, true);
    return this.awaitReply(before + 2);
  }
  callerTurns(): CallerTurn[] {
    return this.session.record.turns.filter((t): t is CallerTurn => t.role === 'caller');
  }
  async hangUp(): Promise<void> {
    this.twilio.stop();
    await until(() => this.session.isEnded, 'end');
    this.twilio.close();
  }
  private async awaitReply(turns: number): Promise<string> {
    await until(() => this.session.isEnded || (this.session.phase === 'listening' && this.session.record.turns.length >= turns), 'agent reply', 30_000);
    return this.session.record.turns.filter((t): t is AgentTurn => t.role === 'agent').at(-1)?.text ?? '';
  }
}

describe('offline calls with callers who do not follow the grammar', () => {
  it('understands a natural cancel request at the menu (or asks about exactly that), and records both passes', async () => {
    const call = new Caller(voice('flite-slt'));
    await call.start();
    const reply = await call.say('hi, I need to cancel my appointment please');
    expect(reply).toMatch(/number you are calling from|did you want to cancel an appointment/i);
    const turn = call.callerTurns()[0]!;
    expect(turn.recognition?.grammar).toBeDefined();
    expect(turn.recognition?.open?.text).toMatch(/cancel/);
    expect(call.session.record.toolCalls.filter((t) => t.name === 'transfer_to_person')).toEqual([]);
    await call.hangUp();
  }, 120_000);

  it('answers an hours question phrased its own way, with text the caller hears', async () => {
    const call = new Caller(voice('flite-rms'));
    await call.start();
    const reply = await call.say('could you tell me what time you open in the morning');
    expect(reply).toMatch(/We are open Monday to Thursday|did you want our opening hours/i);
    const agentTurn = call.session.record.turns.at(-1) as AgentTurn;
    expect(agentTurn.text.length).toBeGreaterThan(0);
    expect(agentTurn.heardText).toBe(agentTurn.text);
    await call.hangUp();
  }, 120_000);

  it('mid-booking, a day with extra words fills the day; a request out of order is asked about, not acted on', async () => {
    const call = new Caller(voice('flite-rms'));
    await call.start();
    expect(await call.say('book an appointment')).toMatch(/what day/i);
    expect(await call.say('it is um Tuesday I think')).toMatch(/what time/i);
    const out = await call.say('actually I need to cancel my appointment');
    expect(out).toMatch(/did you want to cancel an appointment/i);
    expect(await call.say('no')).toMatch(/okay\. what time/i);
    expect(call.session.record.toolCalls.filter((t) => t.name !== 'check_availability')).toEqual([]);
    await call.hangUp();
  }, 180_000);

  it('a clarifying question answered yes leads to the action it asked about, on the next turn', async () => {
    const call = new Caller(voice('flite-rms'));
    await call.start();
    let reply = await call.say('hello, something came up and I have to cancel my visit');
    const asked = /did you want to cancel an appointment/i.test(reply);
    if (asked) reply = await call.say('yes please');
    expect(reply, asked ? 'after the yes' : 'acted at once').toMatch(/number you are calling from/i);
    expect(call.session.record.toolCalls.map((t) => t.name).filter((n) => n !== 'find_bookings')).toEqual([]);
    await call.hangUp();
  }, 120_000);
});
