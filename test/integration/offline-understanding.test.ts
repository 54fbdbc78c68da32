/**
 * Whole offline calls over the media WebSocket where the caller does not say what the step's
 * grammar expects: natural phrasings, requests out of order, slot answers with extra words. The
 * caller's voices are not the agent's (flite slt/rms through a band-limited, noisy μ-law line).
 * The agent must do the right thing or ask, never act on something else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../src/config/load-agent-config.js';
import type { AgentTurn } from '../../src/store/call-record.js';
import { PHONE_VOICES, phoneLineMulaw, type PhoneVoice } from '../../testkit/helpers/phone-voices.js';
import { OfflineTestCaller, startOfflineServer, type OfflineServer } from '../../testkit/helpers/offline-call.js';

const agent = loadAgentConfig('config/agent.yaml');
const voice = (id: string): PhoneVoice => PHONE_VOICES.find((v) => v.id === id)!;
let offline: OfflineServer;

beforeAll(async () => {
  offline = await startOfflineServer('offline-understanding-', agent);
}, 120_000);

afterAll(async () => {
  await offline?.close();
});

class Caller extends OfflineTestCaller {
  constructor(voice: PhoneVoice) {
    super(offline.server, { speech: (text) => phoneLineMulaw(text, voice), trailingSilenceMs: 800, replyTimeoutMs: 30_000 });
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
