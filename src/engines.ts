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
import type { CallEngines } from './dialog/call-session.js';
import { FlowBrain } from './dialog/flow-brain.js';
import { EnergyVad } from './media/vad/energy-vad.js';
import { SileroVad } from './media/vad/silero-vad.js';
import type { Vad } from './media/vad/vad.js';
import { FliteTts } from './speech/flite-tts.js';
import { PocketsphinxPool } from './speech/pocketsphinx-pool.js';
import { PocketsphinxStt } from './speech/pocketsphinx-stt.js';
import { checkSystemPackages } from './speech/system-check.js';
import { openDatabase } from './store/database.js';
import { createClinicTools } from './tools/clinic-tools.js';
import { systemClock } from './tools/clinic-time.js';
import { ToolRunner } from './tools/registry.js';

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

export interface CreateEnginesOptions {
  config: ServerConfig;
  agent: AgentConfig;
  logger: Logger;
  /** Wall clock, epoch ms: "today" for the schedule and the dialog. Replays pin it to the recording's date. */
  now?: () => number;
}

export async function createEngines(options: CreateEnginesOptions): Promise<EngineSet> {
  const { config, agent, logger } = options;
  const clock = options.now ? { now: options.now } : systemClock;
  const system = checkSystemPackages();
  if (!system.available.stt || !system.available.tts) {
    const what = system.missing.map((m) => m.what).join(', ');
    throw new StartupError(
      `the offline speech engines need system packages that are missing (${what}). Install them with:\n` +
        `  sudo ${system.installCommand ?? 'apt-get install -y $(cat scripts/system-packages.txt)'}`,
    );
  }

  let vad: Vad;
  if (system.available.sileroVad) {
    vad = await SileroVad.create();
  } else {
    logger.warn({ missing: system.missing }, 'Silero VAD unavailable; using the energy VAD (more false triggers on noisy lines)');
    vad = new EnergyVad();
  }

  // One decoder process per core: utterances from all calls queue on them.
  const pool = new PocketsphinxPool({ size: Math.max(1, Math.min(2, cpus().length)) });
  const stt = new PocketsphinxStt({ pool });
  stt.warm(); // load the acoustic model now, not on the first caller's first word
  const tts = new FliteTts({ voice: 'kal' });
  const fixedPrompts = [
    agent.prompts.greeting,
    agent.prompts.goodbye,
    agent.prompts.apology,
    agent.prompts.maxDuration,
    ...agent.prompts.inactivity,
    ...agent.offline.fillers,
  ];
  await tts.warm?.(fixedPrompts);

  const db = openDatabase({ dataDir: config.dataDir });
  const tools = createClinicTools({
    db,
    calendar: agent.business.schedule,
    clock,
    transfer: {
      accountSid: config.twilio.accountSid,
      authToken: config.twilio.authToken,
      apiBaseUrl: config.twilio.apiUrl,
      transferNumber: config.twilio.transferNumber,
    },
  });
  const brainName = 'flow';

  return {
    names: { stt: stt.name, llm: brainName, tts: tts.name, vad: vad.name },
    forCall(call) {
      const runner = new ToolRunner({
        tools,
        call: { callSid: call.callSid, from: call.from },
        onInternalError: (tool, error) => logger.error({ err: error, tool, callSid: call.callSid }, 'tool failed'),
      });
      return { vad, stt, tts, brain: new FlowBrain({ config: agent, tools: runner, now: () => new Date(clock.now()) }) };
    },
    async close() {
      pool.close();
      db.close();
    },
  };
}
