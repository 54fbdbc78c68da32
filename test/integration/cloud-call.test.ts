/**
 * Calls through the real cloud adapters (Deepgram live STT, ElevenLabs multi-context TTS) against
 * protocol-faithful local fakes, including their failures: every fault ends in a degraded but
 * audible reply and a complete call record.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../src/config/load-agent-config.js';
import { loadServerConfig } from '../../src/config/env.js';
import { createEngines, type EngineSet } from '../../src/engines.js';
import { decodeMulaw } from '../../src/media/mulaw.js';
import { Metrics } from '../../src/observability/metrics.js';
import { FliteTts } from '../../src/speech/flite-tts.js';
import type { AgentTurn, CallerTurn } from '../../src/store/call-record.js';
import { FakeDeepgram, type FakeDeepgramOptions } from '../../testkit/fakes/deepgram-fake.js';
import { AnthropicFake, type FakeReply } from '../../testkit/fakes/anthropic-fake.js';
import { FakeElevenLabs } from '../../testkit/fakes/elevenlabs-fake.js';
import { callerMulaw } from '../../testkit/helpers/caller-audio.js';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { startTestServer, type TestServer } from '../../testkit/helpers/test-app.js';
import { until } from '../../testkit/helpers/process.js';

const agent = loadAgentConfig('config/agent.yaml');
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(options: { deepgram?: Partial<FakeDeepgramOptions>; elevenlabsDown?: boolean | 'hanging'; anthropic?: FakeReply[]; playback?: 'realtime' | 'instant' } = {}) {
  const deepgram = await FakeDeepgram.start({
    apiKey: 'dg-key',
    transcript: { utterances: [{ text: 'I would like to book an appointment.' }, { text: 'Tuesday.' }] },
    ...options.deepgram,
  });
  const elevenlabs = await FakeElevenLabs.start({ apiKey: 'xi-key', msPerWord: 40 });
  if (options.elevenlabsDown === 'hanging') {
    elevenlabs.faults.stallSocket = true;
    elevenlabs.faults.stallHttp = true;
  } else if (options.elevenlabsDown) {
    elevenlabs.faults.refuseUpgrade = true;
    elevenlabs.faults.httpStatus = 500;
  }
  cleanup.push(() => deepgram.close(), () => elevenlabs.stop());
  const anthropic = options.anthropic ? await new AnthropicFake('sk-test').start() : null;
  if (anthropic) {
    anthropic.enqueue(...options.anthropic!);
    cleanup.push(() => anthropic.stop());
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'cloud-call-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    DEEPGRAM_API_KEY: 'dg-key',
    DEEPGRAM_URL: deepgram.url,
    ELEVENLABS_API_KEY: 'xi-key',
    ELEVENLABS_VOICE_ID: 'voice-1',
    ELEVENLABS_BASE_URL: elevenlabs.baseUrl,
    ...(anthropic ? { ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: anthropic.baseUrl } : {}),
  };
  const metrics = new Metrics();
  const engines: EngineSet = await createEngines({ config: loadServerConfig(env), agent, logger: pino({ level: 'silent' }), metrics });
  cleanup.push(() => engines.close());
  const server: TestServer = await startTestServer({ env, dataDir, agentConfig: agent, engines: (call) => engines.forCall(call) });
  cleanup.push(() => server.close());
  const caller = new FakeTwilioCaller({ url: server.wsUrl, playback: options.playback ?? 'instant' });
  cleanup.push(() => caller.close());
  return { deepgram, elevenlabs, anthropic, server, caller, engines };
}

describe('cloud providers through their real SDKs', () => {
  it('Deepgram hears the caller, the flow brain answers, ElevenLabs speaks', { timeout: 60_000 }, async () => {
    const { server, caller, elevenlabs, deepgram } = await setup();
    await caller.start();
    await until(() => caller.count('media') > 0, 'greeting audio');
    const session = server.app.context.calls.session(caller.callSid)!;
    expect(session.record.engines).toMatchObject({ stt: 'deepgram:nova-3', tts: 'elevenlabs:eleven_flash_v2_5' });
    await until(() => session.phase === 'listening', 'greeting played');
    await caller.sendMulaw(callerMulaw('I would like to book an appointment', 'rms'));
    await caller.silence(800);
    await until(() => session.phase === 'listening' && session.record.turns.length >= 3, 'reply');
    const callerTurn = session.record.turns.find((t): t is CallerTurn => t.role === 'caller')!;
    expect(callerTurn.text).toBe('I would like to book an appointment.');
    expect((session.record.turns.at(-1) as AgentTurn).text).toMatch(/what day/i);
    expect(callerTurn.metrics.ttfaMs).toBeGreaterThan(0);
    // The reply was rendered by the ElevenLabs socket in its own context.
    // Fixed prompts (like this step's question) are rendered once at startup and served from memory;
    // the greeting and the reply were ElevenLabs audio either way.
    expect(elevenlabs.httpRequests.some((r) => r.text === 'What day would you like?')).toBe(true);
    expect(elevenlabs.httpRequests.every((r) => r.outputFormat === 'ulaw_8000')).toBe(true);
    expect(session.record.fallbacks).toEqual([]);
    caller.stop();
    await until(() => session.isEnded, 'end');
    await until(() => deepgram.connections.some((c) => c.control.includes('CloseStream')), 'CloseStream');
  });

  it('Deepgram unreachable: the call switches to the offline recogniser and keeps answering', async () => {
    const { server, caller } = await setup({ deepgram: { defaultBehavior: { upgrade: 503 } } });
    await caller.start();
    await until(() => caller.count('media') > 0, 'greeting audio');
    const session = server.app.context.calls.session(caller.callSid)!;
    await until(() => session.record.fallbacks.length === 1, 'stt fallback', 20_000);
    expect(session.record.fallbacks[0]).toMatchObject({ stage: 'stt', from: 'deepgram:nova-3', to: 'pocketsphinx' });
    await until(() => session.phase === 'listening', 'greeting played');
    const before = session.record.turns.length;
    await caller.dtmf('4');
    await until(() => session.phase === 'listening' && session.record.turns.length >= before + 2, 'keypad answer');
    expect((session.record.turns.at(-1) as AgentTurn).text).toMatch(/open/i);
    const metrics = await server.app.fastify.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/voice_fallbacks_total\{stage="stt",from="deepgram:nova-3",to="pocketsphinx"\} 1/);
  });

  it('ElevenLabs down: replies are spoken in the offline voice, and the record says so', async () => {
    const { server, caller } = await setup({ elevenlabsDown: true });
    await caller.start();
    await until(() => caller.count('media') > 0, 'greeting audio (offline voice)');
    const session = server.app.context.calls.session(caller.callSid)!;
    await until(() => session.phase === 'listening', 'greeting played');
    expect(session.record.fallbacks.some((f) => f.stage === 'tts' && f.to === 'flite:kal')).toBe(true);
    expect((session.record.turns[0] as AgentTurn).heardText).toMatch(/Maple Street Clinic/);
    caller.stop();
    await until(() => session.isEnded, 'end');
    await server.app.context.records.flush();
    const stored = await server.app.context.records.get(caller.callSid);
    expect(stored?.fallbacks.length).toBeGreaterThan(0);
    expect(stored?.endReason).toBe('caller-hangup');
  });

  it('all three providers: Deepgram hears, Claude answers (streamed), ElevenLabs speaks; usage and cost land in the record', { timeout: 60_000 }, async () => {
    const reply: FakeReply = {
      blocks: [{ type: 'text', chunks: ['Sure, I can help ', 'with that. ', 'What day would ', 'suit you?'] }],
      usage: { input_tokens: 1200, output_tokens: 20, cache_read_input_tokens: 3000, cache_creation_input_tokens: 0 },
    };
    const { server, caller, anthropic } = await setup({ anthropic: [reply] });
    await caller.start();
    await until(() => caller.count('media') > 0, 'greeting audio');
    const session = server.app.context.calls.session(caller.callSid)!;
    expect(session.record.engines.llm).toBe('claude:claude-sonnet-5-5');
    await until(() => session.phase === 'listening', 'greeting played');
    await caller.sendMulaw(callerMulaw('I would like to book an appointment', 'rms'));
    await caller.silence(800);
    await until(() => session.phase === 'listening' && session.record.turns.length >= 3, 'reply', 30_000);
    expect((session.record.turns.at(-1) as AgentTurn).text).toBe('Sure, I can help with that. What day would suit you?');
    // Claude got what the caller said, with the history of what they heard, and cache breakpoints.
    const body = anthropic!.requests[0]!.body;
    expect(JSON.stringify(body.messages)).toContain('I would like to book an appointment.');
    expect(JSON.stringify(body)).toContain('"cache_control"');
    caller.stop();
    await until(() => session.isEnded, 'end');
    expect(session.record.usage).toMatchObject({ llmInputTokens: 1200, llmCachedInputTokens: 3000, llmOutputTokens: 20 });
    expect(session.record.usage.ttsCharacters).toBeGreaterThan(0);
    expect(session.record.usage.sttSeconds).toBeGreaterThan(0);
    expect(session.record.cost?.llm).toBeGreaterThan(0);
    expect(session.record.cost?.total).toBeGreaterThan(0);
    const metrics = (await server.app.fastify.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/voice_call_cost_usd_total\{provider="claude"\} \d/);
  });

  it('Claude overloaded: the offline flow engine answers the turn, and the record says so', { timeout: 60_000 }, async () => {
    const overloaded: FakeReply = { fault: { type: 'http', status: 529 } };
    const { server, caller } = await setup({ anthropic: Array.from({ length: 20 }, () => overloaded) });
    await caller.start();
    await until(() => caller.count('media') > 0, 'greeting audio');
    const session = server.app.context.calls.session(caller.callSid)!;
    await until(() => session.phase === 'listening', 'greeting played');
    await caller.sendMulaw(callerMulaw('I would like to book an appointment', 'rms'));
    await caller.silence(800);
    await until(() => session.phase === 'listening' && session.record.turns.length >= 3, 'degraded reply', 30_000);
    expect((session.record.turns.at(-1) as AgentTurn).text).toMatch(/what day/i);
    expect(session.record.fallbacks.some((f) => f.stage === 'llm')).toBe(true);
  });
});

describe('provider outage: Claude answering 529 and ElevenLabs failing (issue 10)', () => {
  it.each([
    ['refusing', true],
    ['hanging', 'hanging'],
  ] as const)('ElevenLabs %s: the caller hears an offline filler within 1.5 s of their last word and the flow engine\'s answer within 3 s', { timeout: 60_000 }, async (_how, elevenlabsDown) => {
    const { server, caller, anthropic } = await setup({ anthropic: [], elevenlabsDown, playback: 'realtime' });
    anthropic!.fallbackReply = { fault: { type: 'http', status: 529 } };
    await caller.start();
    await until(() => caller.count('media') > 0, 'greeting audio');
    const session = server.app.context.calls.session(caller.callSid)!;
    await until(() => session.phase === 'listening', 'greeting played');

    const speech = callerMulaw('I would like to book an appointment', 'rms');
    const voicedEnd = lastVoicedByte(speech);
    // Like Twilio, the line keeps sending (silence) after the caller stops talking.
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    await caller.sendMulaw(speech.subarray(0, voicedEnd));
    const turnEndedAt = Date.now() - 20; // the last voiced frame went out one frame ago
    const fromIndex = caller.received.length;
    const line = caller.silence(5000);
    await until(() => session.phase === 'listening' && session.record.turns.length >= 3, 'degraded reply', 30_000);
    lag.disable();
    await line;

    const reply = session.record.turns.at(-1) as AgentTurn;
    const filler = agent.offline.fillers.find((f) => reply.text.startsWith(f));
    expect(filler, `reply "${reply.text}" opens with a filler`).toBeDefined();
    expect(reply.text.slice(filler!.length)).toMatch(/^ What day would you like\?$/); // said once, nothing doubled
    expect(session.record.fallbacks.some((f) => f.stage === 'llm')).toBe(true);
    expect(session.record.fallbacks.some((f) => f.stage === 'tts')).toBe(true);

    // What the caller heard, on their own clock: playback is sequential, so the answer starts when
    // the filler's audio (as the offline voice renders it) has played out.
    const heard = heardTimeline(caller.received.slice(fromIndex));
    const fillerBytes = await renderedBytes(filler!);
    const firstAudioMs = heard.at(0) - turnEndedAt;
    const answerMs = heard.at(fillerBytes) - turnEndedAt;
    // The server shares this process: time its event loop was held up by the machine is not the server's latency.
    const slackMs = lag.max / 1e6;
    const figures = `first audio ${firstAudioMs} ms, answer ${answerMs} ms, loop delay max ${slackMs.toFixed(0)} ms`;
    expect(firstAudioMs, figures).toBeLessThan(1500 + slackMs);
    expect(answerMs, figures).toBeLessThan(3000 + slackMs);
    expect(anthropic!.requests.length).toBeGreaterThan(1); // Claude was retried, within the budget
  });
});

/** End of the last 20 ms frame with speech energy (the caller's last word). */
function lastVoicedByte(mulaw: Uint8Array): number {
  const pcm = decodeMulaw(mulaw);
  for (let end = pcm.length; end > 0; end -= 160) {
    const frame = pcm.subarray(Math.max(0, end - 160), end);
    const mean = frame.reduce((sum, x) => sum + Math.abs(x), 0) / frame.length;
    if (mean > 300) return end;
  }
  return 0;
}

/** Wall time (ms) at which the caller hears byte `n` of the agent audio received, played in order at 8 bytes/ms. */
function heardTimeline(received: FakeTwilioCaller['received']): { at(byte: number): number } {
  const spans: Array<{ from: number; bytes: number; startAt: number }> = [];
  let total = 0;
  let freeAt = 0;
  for (const message of received) {
    if (message.event !== 'media') continue;
    const bytes = Buffer.from(message.media.payload, 'base64').length;
    const startAt = Math.max(message.at, freeAt);
    spans.push({ from: total, bytes, startAt });
    total += bytes;
    freeAt = startAt + bytes / 8;
  }
  return {
    at(byte) {
      const span = spans.find((s) => byte < s.from + s.bytes);
      if (!span) throw new Error(`only ${total} bytes of agent audio were heard`);
      return span.startAt + (byte - span.from) / 8;
    },
  };
}

async function renderedBytes(text: string): Promise<number> {
  let bytes = 0;
  for await (const chunk of new FliteTts({ voice: 'kal' }).stream({ text: (async function* () { yield text; })(), signal: new AbortController().signal })) {
    bytes += chunk.audio.length;
  }
  return bytes;
}
