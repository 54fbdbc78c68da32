/**
 * The agent's side of the line: a held reply knows whether the caller was stopped in a yes/no
 * question (then a "yes" over it is an answer), and resumes from where the caller stopped hearing it.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../src/config/load-agent-config.js';
import { AgentVoice } from '../../../src/dialog/agent-voice.js';
import { CallLedger } from '../../../src/dialog/call-ledger.js';
import { fixedText } from '../../../src/dialog/reply-runner.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { WordLengthTts } from '../../../testkit/fakes/scripted-engines.js';
import { ManualScheduler } from '../../../testkit/helpers/manual-scheduler.js';

const agent = loadAgentConfig('config/agent.yaml');
const flush = async () => {
  for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
};

async function speaking(text: string) {
  const scheduler = new ManualScheduler();
  const metrics = new Metrics();
  const logger = pino({ level: 'silent' });
  const ledger = new CallLedger({ callSid: 'CA1', streamSid: 'MZ1', from: '', to: '', engines: { stt: 's', llm: 'l', tts: 't', vad: 'v' }, prices: agent.prices, metrics, logger, wallNow: () => scheduler.wallNow() });
  const marks: string[] = [];
  const clears: number[] = [];
  const voice = new AgentVoice({
    agent: { ...agent, playout: { ...agent.playout, maxLeadMs: 10_000 } },
    transport: { sendMedia: () => undefined, sendMark: (m) => marks.push(m), sendClear: () => clears.push(1), close: () => undefined },
    tts: new WordLengthTts(100),
    ledger, logger, metrics, scheduler,
    callSignal: new AbortController().signal,
    onFirstAudio: () => undefined,
  });
  const done = voice.reply(() => fixedText(text), {});
  await flush();
  /** Twilio has played `ms` of the reply (no marks echoed: the playout counts real time since the last one). */
  const hear = async (ms: number) => {
    scheduler.advance(ms);
    await flush();
  };
  return { voice, ledger, marks, clears, hear, done, scheduler };
}

describe('agent voice: held replies', () => {
  it.each<[string, number, boolean]>([
    ['You are booked for Tuesday at ten. Is that right?', 300, false], // still in the statement
    ['You are booked for Tuesday at ten. Is that right?', 850, true], // in the question
    ['Sorry, is that correct? Please say yes or no.', 400, true],
    ['What day would you like?', 200, false],
    ['You can book or cancel. What would you like to do?', 900, false],
  ])('%j held %i ms in: a yes answers it → %s', async (text, atMs, answers) => {
    const v = await speaking(text);
    await v.hear(atMs);
    const r = v.voice.hold();
    expect(r?.outcome).toBe('playing');
    expect(v.clears).toHaveLength(1);
    expect(v.voice.heldOnYesNoQuestion()).toBe(answers);
    v.voice.resume('backchannel');
    expect(v.voice.heldOnYesNoQuestion()).toBe(false); // nothing held any more
    expect(v.ledger.record.resumedReplies).toBe(1);
    v.voice.close();
  });
});
