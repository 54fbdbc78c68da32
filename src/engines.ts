/**
 * Chooses and builds the engines once at startup. With no provider keys: the embedded offline
 * default (Silero VAD, pocketsphinx with per-turn grammars, the config-driven flow brain on the
 * SQLite clinic tools, flite). Missing system packages are reported here, with the exact install
 * command, instead of failing mid-call.
 */
import { cpus } from 'node:os';
import type { Logger } from 'pino';
import type { AgentConfig } from './config/agent-schema.js';
import type { ServerConfig } from './config/env.js';
import type { CallContext } from './dialog/brain.js';
import type { CallEngines } from './dialog/call-engines.js';
import { ClaudeBrain } from './dialog/claude-brain.js';
import { FlowBrain } from './dialog/flow-brain.js';
import { EnergyVad } from './media/vad/energy-vad.js';
import { SileroVad } from './media/vad/silero-vad.js';
import type { Vad } from './media/vad/vad.js';
import type { Metrics } from './observability/metrics.js';
import { DeepgramStt } from './speech/deepgram-stt.js';
import { ElevenLabsTts } from './speech/elevenlabs-tts.js';
import { FallbackStt } from './speech/fallback-stt.js';
import { FallbackTts } from './speech/fallback-tts.js';
import type { SpeechToText } from './speech/stt.js';
import type { TextToSpeech } from './speech/tts.js';
import { FliteTts } from './speech/flite-tts.js';
import { PocketsphinxPool } from './speech/pocketsphinx-pool.js';
import { PocketsphinxStt } from './speech/pocketsphinx-stt.js';
import { checkSystemPackages, defaultCheckEnv } from './speech/system-check.js';
import { openDatabase } from './store/database.js';
import { createClinicTools } from './tools/clinic-tools.js';
import { systemClock } from './tools/clinic-time.js';
import { ToolRunner } from './tools/registry.js';
import { SqliteTransferStore } from './store/transfer-store-sqlite.js';
import { resolveTransferMode } from './transfer/mode.js';
import { withResumeLine } from './transfer/resume-brain.js';
import { transferMetrics } from './transfer/transfer-metrics.js';
import { splitSentences } from './util/sentences.js';

export interface EngineSet {
  forCall(call: CallContext): CallEngines;
  names: { stt: string; llm: string; tts: string; vad: string };
  close(): Promise<void>;
}

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface EngineOptions {
  config: ServerConfig;
  agent: AgentConfig;
  logger: Logger;
  metrics?: Metrics;
  /** Wall clock, epoch ms: "today" for the schedule and the dialog. Replays pin it to the recording's date. */
  now?: () => number;
}

export async function createEngines(options: EngineOptions): Promise<EngineSet> {
  const { config, agent, logger } = options;
  const clock = options.now ? { now: options.now } : systemClock;
  const cloud = {
    stt: Boolean(config.deepgram.apiKey),
    tts: Boolean(config.elevenlabs.apiKey && config.elevenlabs.voiceId),
  };
  if (config.elevenlabs.apiKey && !config.elevenlabs.voiceId) {
    logger.warn('ELEVENLABS_API_KEY is set without ELEVENLABS_VOICE_ID: using the offline voice');
  }

  // The offline engines are the default, and the backup of every cloud stage.
  const system = checkSystemPackages(defaultCheckEnv(config.searchPath));
  const missingFor = (feature: 'stt' | 'tts') => system.missing.filter((m) => m.feature === feature).map((m) => m.what);
  const blocking = (['stt', 'tts'] as const).filter((stage) => !system.available[stage] && !cloud[stage]);
  if (blocking.length > 0) {
    throw new StartupError(
      `the offline ${blocking.join(' and ')} engine needs system packages that are missing ` +
        `(${blocking.flatMap(missingFor).join(', ')}). Install them with:\n` +
        `  sudo ${system.installCommand ?? 'apt-get install -y $(grep -Ev "^\\s*(#|$)" scripts/system-packages.txt)'}`,
    );
  }
  for (const stage of ['stt', 'tts'] as const) {
    if (cloud[stage] && !system.available[stage]) {
      logger.warn({ missing: missingFor(stage), fix: system.installCommand }, `no offline ${stage} backup: if the cloud provider fails, this stage has no fallback`);
    }
  }

  let vad: Vad;
  if (system.available.sileroVad) {
    vad = await SileroVad.create();
  } else {
    logger.warn({ missing: system.missing }, 'Silero VAD unavailable; using the energy VAD (more false triggers on noisy lines)');
    vad = new EnergyVad();
  }

  // Rendered once at startup, sentence by sentence as replies are cut (texts with {placeholders}
  // vary per call and are left to the voice's sentence cache).
  const fixedPrompts = [
    agent.prompts.greeting,
    agent.prompts.goodbye,
    agent.prompts.apology,
    agent.prompts.maxDuration,
    ...agent.prompts.inactivity,
    ...agent.offline.fillers,
    ...Object.values(agent.offline.steps).flatMap((step) => [step.prompt, ...step.reprompts, step.keypad]),
  ]
    .flatMap((text) => splitSentences(text))
    .filter((sentence) => !sentence.includes('{'));

  let pool: PocketsphinxPool | null = null;
  let offlineStt: SpeechToText | null = null;
  if (system.available.stt) {
    // One decoder process per core: utterances from all calls queue on them.
    pool = new PocketsphinxPool({ size: Math.max(1, Math.min(2, cpus().length)) });
    const pocketsphinx = new PocketsphinxStt({ pool });
    pocketsphinx.warm(); // load the acoustic model now, not on the first caller's first word
    offlineStt = pocketsphinx;
  }
  let offlineTts: TextToSpeech | null = null;
  if (system.available.tts) {
    offlineTts = new FliteTts({ voice: 'kal' });
    await offlineTts.warm?.(fixedPrompts);
  }

  let stt: SpeechToText = offlineStt!;
  if (cloud.stt) {
    const deepgram = new DeepgramStt({ apiKey: config.deepgram.apiKey!, url: config.deepgram.url, logger });
    stt = offlineStt ? new FallbackStt(deepgram, offlineStt) : deepgram;
  }

  // ElevenLabs keeps one socket per call; fixed prompts are rendered once per process.
  const promptCache = new Map<string, readonly Uint8Array[]>();
  const cloudTts = (): TextToSpeech & { close(): Promise<void> } =>
    new ElevenLabsTts({
      apiKey: config.elevenlabs.apiKey!,
      voiceId: config.elevenlabs.voiceId!,
      baseUrl: config.elevenlabs.baseUrl,
      logger,
      promptCache,
      onFallback: (event) => {
        // Socket → HTTP inside the same provider: still the cloud voice, but worth seeing.
        options.metrics?.fallbacks.inc({ stage: 'tts', from: 'elevenlabs-ws', to: 'elevenlabs-http' });
        logger.warn({ event }, 'ElevenLabs socket unavailable; using HTTP streaming');
      },
    });
  let cloudTtsName: string | null = null;
  if (cloud.tts) {
    const warmer = cloudTts();
    cloudTtsName = warmer.name;
    void warmer
      .warm?.(fixedPrompts)
      .catch((error: unknown) => logger.warn({ err: error }, 'could not pre-render prompts with ElevenLabs'))
      .finally(() => void warmer.close());
  }

  const db = openDatabase({ dataDir: config.dataDir });
  const transferStore = new SqliteTransferStore(db, () => clock.now());
  const transferMode = resolveTransferMode(agent, config);
  if (transferMode.downgraded) logger.warn(transferMode.downgraded);
  const tools = createClinicTools({
    db,
    calendar: agent.business.schedule,
    clock,
    transfer: {
      accountSid: config.twilio.accountSid,
      authToken: config.twilio.authToken,
      apiBaseUrl: config.twilio.apiUrl,
      transferNumber: config.twilio.transferNumber,
      routing: { config: agent.transfer, schedule: agent.business.schedule, mode: transferMode.mode, now: () => clock.now() },
      store: transferStore,
    },
    onCallbackStored: () => options.metrics && transferMetrics(options.metrics.registry).outcomes.inc({ outcome: 'callback-taken' }),
  });
  const claudeModel = agent.llm.model;
  const names = {
    stt: stt.name,
    llm: config.anthropic.apiKey ? `claude:${claudeModel}` : 'flow',
    tts: cloudTtsName ?? offlineTts!.name,
    vad: vad.name,
  };

  return {
    names,
    forCall(call) {
      const runner = new ToolRunner({
        tools,
        call: { callSid: call.callSid, from: call.from },
        onInternalError: (tool, error) => logger.error({ err: error, tool, callSid: call.callSid }, 'tool failed'),
      });
      const flow = new FlowBrain({ config: agent, tools: runner, now: () => new Date(clock.now()) });
      let fallbackListener: Parameters<NonNullable<CallEngines['onFallback']>>[0] | null = null;
      const usage = { llmInputTokens: 0, llmCachedInputTokens: 0, llmCacheWriteTokens: 0, llmOutputTokens: 0 };
      const brain = config.anthropic.apiKey
        ? withResumeLine(new ClaudeBrain({
            apiKey: config.anthropic.apiKey,
            baseUrl: config.anthropic.baseUrl,
            config: agent,
            tools: runner,
            // The offline flow engine answers any turn Claude cannot: degraded, never silent.
            fallback: flow,
            logger,
            now: () => new Date(clock.now()),
            onUsage: (_callSid, u) => {
              usage.llmInputTokens += u.inputTokens;
              usage.llmCachedInputTokens += u.cacheReadInputTokens;
              usage.llmCacheWriteTokens += u.cacheCreationInputTokens;
              usage.llmOutputTokens += u.outputTokens;
            },
            onFallback: (_callSid, info) => fallbackListener?.('llm', names.llm, info.to, info.reason),
          }), `${agent.transfer.messages.backFromHold} ${agent.transfer.messages.callbackOffer} What number should we call you on?`)
        : flow;
      const elevenlabs = cloud.tts ? cloudTts() : null;
      const tts = elevenlabs ? (offlineTts ? new FallbackTts(elevenlabs, offlineTts) : elevenlabs) : offlineTts!;
      return {
        vad,
        stt,
        tts,
        brain,
        ...(elevenlabs ? { dispose: () => void elevenlabs.close() } : {}),
        onFallback: (listener) => (fallbackListener = listener),
        llmUsage: () => usage,
      };
    },
    async close() {
      pool?.close();
      db.close();
    },
  };
}
