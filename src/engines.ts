/**
 * Chooses and builds the engines once at startup. With no provider keys: the embedded offline
 * default (Silero VAD, pocketsphinx with per-turn grammars, the config-driven flow brain on the
 * SQLite clinic tools, flite). Missing system packages are reported here, with the exact install
 * command, instead of failing mid-call.
 *
 *   checkSystem          which stages run in the cloud, what the machine can run offline (or a StartupError)
 *   buildOfflineEngines  VAD, pocketsphinx, flite: the default, and the backup of every cloud stage
 *   buildCloudEngines    Deepgram, ElevenLabs (per call), when their keys are set
 *   callEnginesFactory   per call: the brains' gated tools, fallback wrappers, usage, one fallback channel
 *
 * Engine names come from the adapters (`engine.name`), never spelled here.
 */
import { cpus } from 'node:os';
import type { Logger } from 'pino';
import type { AgentConfig } from './config/agent-schema.js';
import type { ServerConfig } from './config/env.js';
import type { Brain, CallContext } from './dialog/brain.js';
import type { CallEngines } from './dialog/call-engines.js';
import { ClaudeBrain } from './dialog/claude-brain.js';
import { FlowBrain } from './dialog/flow-brain.js';
import { GatedToolInvoker, type ToolInvokerFactory } from './dialog/tool-invoker.js';
import { EnergyVad } from './media/vad/energy-vad.js';
import { SileroVad } from './media/vad/silero-vad.js';
import type { Vad } from './media/vad/vad.js';
import type { CallUsage } from './observability/cost.js';
import { FallbackRelay, type FallbackListener } from './observability/fallback.js';
import type { Metrics } from './observability/metrics.js';
import { DeepgramStt } from './speech/deepgram-stt.js';
import { ElevenLabsTts } from './speech/elevenlabs-tts.js';
import { FallbackStt } from './speech/fallback-stt.js';
import { FallbackTts } from './speech/fallback-tts.js';
import { FliteTts } from './speech/flite-tts.js';
import { PocketsphinxPool } from './speech/pocketsphinx-pool.js';
import { decodersPerWorker, resolveWorkerCount } from './cluster/workers.js';
import { PocketsphinxStt } from './speech/pocketsphinx-stt.js';
import { writeDomainLm } from './dialog/understanding/domain-lm.js';
import type { SpeechToText } from './speech/stt.js';
import { checkSystemPackages, defaultCheckEnv, type SystemCheckResult } from './speech/system-check.js';
import type { TextToSpeech } from './speech/tts.js';
import { openDatabase } from './store/database.js';
import type { StateStore } from './store/ports.js';
import { createClinicTools } from './tools/clinic-tools.js';
import { systemClock, type Clock } from './tools/clinic-time.js';
import { ToolRunner } from './tools/registry.js';
import type { Tool } from './tools/tool.js';
import { SqliteTransferStore } from './store/embedded/transfers.js';
import { EmbeddedBookings } from './store/embedded/bookings.js';
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
  /** Accepted for callers that pass it; fallbacks are counted by the call ledger. */
  metrics?: Metrics;
  /** Wall clock, epoch ms: "today" for the schedule and the dialog. Replays pin it to the recording's date. */
  now?: () => number;
  /**
   * The shared state the tools book in and store callbacks and transfer attempts in (the app's
   * store: PostgreSQL or embedded, one connection for both). Unset (tests, tools): this process
   * opens DATA_DIR's SQLite itself and closes it with the engines.
   */
  store?: Pick<StateStore, 'bookings' | 'transfers'>;
}

export async function createEngines(options: EngineOptions): Promise<EngineSet> {
  const { config, agent, logger } = options;
  const clock: Clock = options.now ? { now: options.now } : systemClock;
  const plan = checkSystem(config, logger);
  const prompts = fixedPrompts(agent);
  // The open-vocabulary pass hears what the per-turn grammar does not expect (issue 12).
  const understanding = agent.offline.understanding;
  const recognition = { openLm: understanding.openVocabulary ? writeDomainLm(agent) : undefined, fitThreshold: understanding.fitThreshold };
  const offline = await buildOfflineEngines(plan, prompts, logger, recognition, resolveWorkerCount(config.workers));
  const cloud = buildCloudEngines(config, plan, prompts, logger);
  const db = options.store ? undefined : openDatabase({ dataDir: config.dataDir });
  const store = options.store ?? { bookings: new EmbeddedBookings(db!, () => clock.now()), transfers: new SqliteTransferStore(db!, () => clock.now()) };
  const transferMode = resolveTransferMode(agent, config);
  if (transferMode.downgraded) logger.warn(transferMode.downgraded);
  const tools = createClinicTools({
    bookings: store.bookings,
    calendar: agent.business.schedule,
    clock,
    transfer: {
      accountSid: config.twilio.accountSid,
      authToken: config.twilio.authToken,
      apiBaseUrl: config.twilio.apiUrl,
      transferNumber: config.twilio.transferNumber,
      routing: { config: agent.transfer, schedule: agent.business.schedule, mode: transferMode.mode, now: () => clock.now() },
      store: store.transfers,
    },
    onCallbackStored: () => options.metrics && transferMetrics(options.metrics.registry).outcomes.inc({ outcome: 'callback-taken' }),
  });
  const factory = callEnginesFactory({ config, agent, logger, clock, tools, offline, cloud });
  return {
    names: factory.names,
    forCall: factory.forCall,
    async close() {
      offline.close();
      db?.close();
    },
  };
}

/** What startup decided: which stages run in the cloud, and what the machine can run offline. */
export interface SystemPlan {
  cloud: { stt: boolean; tts: boolean };
  system: SystemCheckResult;
}

/**
 * Which stages run in the cloud (their keys are set) and which offline engines this machine can
 * run. Throws a StartupError naming the packages to install when a stage has neither.
 */
export function checkSystem(
  config: ServerConfig,
  logger: Pick<Logger, 'warn'>,
  system: SystemCheckResult = checkSystemPackages(defaultCheckEnv(config.searchPath)),
): SystemPlan {
  const cloud = {
    stt: Boolean(config.deepgram.apiKey),
    tts: Boolean(config.elevenlabs.apiKey && config.elevenlabs.voiceId),
  };
  if (config.elevenlabs.apiKey && !config.elevenlabs.voiceId) {
    logger.warn('ELEVENLABS_API_KEY is set without ELEVENLABS_VOICE_ID: using the offline voice');
  }
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
  return { cloud, system };
}

/**
 * Texts rendered once at startup, sentence by sentence as replies are cut (texts with
 * {placeholders} vary per call and are left to the voice's sentence cache).
 */
export function fixedPrompts(agent: AgentConfig): string[] {
  return [
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
}

export interface OfflineEngines {
  vad: Vad;
  /** Null when the machine lacks the packages (then the cloud engine has no backup). */
  stt: SpeechToText | null;
  tts: TextToSpeech | null;
  close(): void;
}

export async function buildOfflineEngines(
  plan: SystemPlan,
  prompts: readonly string[],
  logger: Pick<Logger, 'warn'>,
  recognition: { openLm?: string | undefined; fitThreshold?: number } = {},
  /** Worker processes on this machine: the decoders are the machine's, shared out among them. */
  workers = 1,
): Promise<OfflineEngines> {
  const { available, missing } = plan.system;
  let vad: Vad;
  if (available.sileroVad) {
    vad = await SileroVad.create();
  } else {
    logger.warn({ missing }, 'Silero VAD unavailable; using the energy VAD (more false triggers on noisy lines)');
    vad = new EnergyVad();
  }
  let pool: PocketsphinxPool | null = null;
  let stt: SpeechToText | null = null;
  if (available.stt) {
    // One decoder process per core for the machine (utterances from all calls queue on them),
    // shared out among the worker processes.
    const { openLm, fitThreshold } = recognition;
    pool = new PocketsphinxPool({ size: decodersPerWorker(Math.max(1, Math.min(2, cpus().length)), workers), preloadLm: openLm });
    const pocketsphinx = new PocketsphinxStt({ pool, openLm, ...(fitThreshold !== undefined ? { fitThreshold } : {}) });
    pocketsphinx.warm(); // load the acoustic model now, not on the first caller's first word
    stt = pocketsphinx;
  }
  let tts: TextToSpeech | null = null;
  if (available.tts) {
    tts = new FliteTts({ voice: 'kal' });
    await tts.warm?.(prompts);
  }
  return { vad, stt, tts, close: () => pool?.close() };
}

export interface CloudEngines {
  stt: SpeechToText | null;
  /** ElevenLabs keeps one socket per call: a new adapter per call, reporting to that call. */
  tts: ((onFallback: FallbackListener) => TextToSpeech & { close(): Promise<void> }) | null;
  /** The cloud voice's name, from the adapter. */
  ttsName: string | null;
}

export function buildCloudEngines(config: ServerConfig, plan: SystemPlan, prompts: readonly string[], logger: Logger): CloudEngines {
  const { deepgram, elevenlabs } = config;
  const stt = plan.cloud.stt && deepgram.apiKey ? new DeepgramStt({ apiKey: deepgram.apiKey, url: deepgram.url, logger }) : null;
  const { apiKey, voiceId } = elevenlabs;
  if (!plan.cloud.tts || !apiKey || !voiceId) return { stt, tts: null, ttsName: null };

  // Fixed prompts are rendered once per process and shared by every call's adapter.
  const promptCache = new Map<string, readonly Uint8Array[]>();
  const voice = (onFallback?: FallbackListener) =>
    new ElevenLabsTts({ apiKey, voiceId, baseUrl: elevenlabs.baseUrl, logger, promptCache, ...(onFallback ? { onFallback } : {}) });
  const warmer = voice();
  void warmer
    .warm(prompts)
    .catch((error: unknown) => logger.warn({ err: error }, 'could not pre-render prompts with ElevenLabs'))
    .finally(() => void warmer.close());
  return { stt, tts: (onFallback) => voice(onFallback), ttsName: warmer.name };
}

type LlmUsage = Pick<CallUsage, 'llmInputTokens' | 'llmCachedInputTokens' | 'llmCacheWriteTokens' | 'llmOutputTokens'>;

export interface CallEnginesFactoryOptions {
  config: ServerConfig;
  agent: AgentConfig;
  logger: Logger;
  clock: Clock;
  tools: readonly Tool[];
  offline: OfflineEngines;
  cloud: CloudEngines;
}

/**
 * The per-call side. The brains are built once; each brain session gets its own gated invoker
 * over a runner bound to the call. Usage and fallbacks are kept per call, by CallSid.
 */
export function callEnginesFactory(options: CallEnginesFactoryOptions): Pick<EngineSet, 'names' | 'forCall'> {
  const { offline, cloud, logger } = options;
  const stt = cloud.stt ?? present(offline.stt, 'stt');
  const offlineTts = cloud.tts ? offline.tts : present(offline.tts, 'tts');
  const calls = new Map<string, { usage: LlmUsage; fallbacks: FallbackRelay }>();
  const brain = buildBrain(options, calls);

  return {
    names: { stt: stt.name, llm: brain.name, tts: cloud.ttsName ?? present(offline.tts, 'tts').name, vad: offline.vad.name },
    forCall(call) {
      const state = { usage: { llmInputTokens: 0, llmCachedInputTokens: 0, llmCacheWriteTokens: 0, llmOutputTokens: 0 }, fallbacks: new FallbackRelay() };
      calls.set(call.callSid, state);
      const report = state.fallbacks.report;
      const voice = cloud.tts?.(report) ?? null;
      const tts = voice ? (offlineTts ? new FallbackTts(voice, offlineTts, report) : voice) : present(offlineTts, 'tts');
      return {
        vad: offline.vad,
        stt: cloud.stt && offline.stt ? new FallbackStt(cloud.stt, offline.stt, report) : stt,
        tts,
        ...(offline.tts ? { fillerTts: offline.tts } : {}),
        brain,
        dispose: () => {
          calls.delete(call.callSid);
          if (voice) void voice.close().catch((error: unknown) => logger.warn({ err: error }, 'elevenlabs: close failed'));
        },
        onFallback: (listener) => state.fallbacks.subscribe(listener),
        llmUsage: () => state.usage,
      };
    },
  };
}

/** Claude when its key is set, with the flow brain taking any turn it cannot; otherwise the flow brain. */
function buildBrain(options: CallEnginesFactoryOptions, calls: Map<string, { usage: LlmUsage; fallbacks: FallbackRelay }>): Brain {
  const { config, agent, logger, clock, tools } = options;
  const gatedTools: ToolInvokerFactory = (call) =>
    new GatedToolInvoker({
      config: agent,
      runner: new ToolRunner({
        tools,
        call: { callSid: call.callSid, from: call.from },
        onInternalError: (tool, error) => logger.error({ err: error, tool, callSid: call.callSid }, 'tool failed'),
      }),
    });
  const now = () => new Date(clock.now());
  const flow = new FlowBrain({ config: agent, tools: gatedTools, now });
  if (!config.anthropic.apiKey) return flow;
  // Claude has no resume of its own: a call back from a transfer nobody took opens with this line.
  const backFromHold = `${agent.transfer.messages.backFromHold} ${agent.transfer.messages.callbackOffer} What number should we call you on?`;
  return withResumeLine(new ClaudeBrain({
    apiKey: config.anthropic.apiKey,
    baseUrl: config.anthropic.baseUrl,
    config: agent,
    tools: gatedTools,
    // The offline flow engine answers any turn Claude cannot: degraded, never silent.
    fallback: flow,
    logger,
    now,
    onUsage: (callSid, u) => {
      const usage = calls.get(callSid)?.usage;
      if (!usage) return;
      usage.llmInputTokens += u.inputTokens;
      usage.llmCachedInputTokens += u.cacheReadInputTokens;
      usage.llmCacheWriteTokens += u.cacheCreationInputTokens;
      usage.llmOutputTokens += u.outputTokens;
    },
    onFallback: (callSid, event) => calls.get(callSid)?.fallbacks.report(event),
  }), backFromHold);
}

/** checkSystem guarantees every stage has an engine; this turns that guarantee into a type. */
function present<T>(engine: T | null, stage: 'stt' | 'tts'): T {
  if (engine === null) throw new StartupError(`no ${stage} engine: neither a cloud provider nor the offline engine is available`);
  return engine;
}
