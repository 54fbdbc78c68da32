/**
 * The server under test, in its own process: the real engines from createEngines() (offline, or the
 * Deepgram/ElevenLabs adapters when the env names the fakes) behind buildApp on 127.0.0.1:0.
 * Answers the harness over IPC: `stats` (CPU, RSS, event-loop delay, recorded aborts since `reset`).
 * Bench-only wrappers: a brain whose first text is delayed (stand-in LLM first token), the energy
 * VAD, and abort instrumentation of the brain and TTS signals. Exits when the parent goes away.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { buildApp } from '../src/app.js';
import type { AgentConfig } from '../src/config/agent-schema.js';
import { loadServerConfig } from '../src/config/env.js';
import { loadAgentConfig } from '../src/config/load-agent-config.js';
import type { Brain, BrainEvent } from '../src/dialog/brain.js';
import type { CallEngines } from '../src/dialog/call-engines.js';
import { createEngines } from '../src/engines.js';
import { EnergyVad } from '../src/media/vad/energy-vad.js';
import { Metrics } from '../src/observability/metrics.js';
import type { TextToSpeech } from '../src/speech/tts.js';
import type { AbortEvent, ServerProcOptions } from './children.js';

const options = JSON.parse(process.argv[2] ?? '{}') as ServerProcOptions;
const now = () => performance.timeOrigin + performance.now();

const base = loadAgentConfig('config/agent.yaml');
const merged: Record<string, unknown> = { ...base };
for (const [key, value] of Object.entries(options.agent ?? {})) {
  merged[key] = { ...(base as unknown as Record<string, Record<string, unknown>>)[key], ...value };
}
const agent = merged as unknown as AgentConfig;

const dataDir = mkdtempSync(join(tmpdir(), 'bench-server-'));
const config = loadServerConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', MAX_CONCURRENT_CALLS: '2000', ...options.env });
const logger = pino({ level: 'silent' });
const metrics = new Metrics();
const engineSet = await createEngines({ config, agent, logger, metrics });
const energyVad = new EnergyVad();
const aborts: AbortEvent[] = [];

function onAbort(signal: AbortSignal, event: () => AbortEvent | null): void {
  signal.addEventListener('abort', () => {
    const e = event();
    if (e) aborts.push(e);
  }, { once: true });
}

/** Stand-in LLM: the flow brain's first text of each reply comes `delayMs` later (abortable). */
function delayedBrain(inner: Brain, delayMs: number, callSid: string): Brain {
  return {
    name: inner.name,
    createSession(context) {
      const session = inner.createSession(context);
      return {
        interrupted: session.interrupted?.bind(session),
        async *turn(input, turnOptions): AsyncIterable<BrainEvent> {
          let done = false;
          onAbort(turnOptions.signal, () => ({ callSid, what: 'brain', at: now(), active: !done }));
          let first = true;
          for await (const event of session.turn(input, turnOptions)) {
            if (event.type === 'text' && first && delayMs > 0) {
              first = false;
              await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, delayMs);
                turnOptions.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
              });
              if (turnOptions.signal.aborted) break;
            }
            yield event;
          }
          done = true;
        },
      };
    },
  };
}

/** Records when a reply's TTS signal aborted and when its audio iteration actually stopped. */
function instrumentedTts(inner: TextToSpeech, callSid: string): TextToSpeech {
  return {
    name: inner.name,
    warm: inner.warm?.bind(inner),
    async *stream(streamOptions) {
      let event: AbortEvent | null = null;
      let active = true;
      onAbort(streamOptions.signal, () => (event = { callSid, what: 'tts', at: now(), active }));
      try {
        for await (const chunk of inner.stream(streamOptions)) yield chunk;
      } finally {
        active = false;
        if (event) (event as AbortEvent).endedAt = now();
      }
    },
  };
}

const app = await buildApp(config, {
  agent,
  metrics,
  logger,
  engines: (call): CallEngines => {
    const engines = engineSet.forCall(call);
    return {
      ...engines,
      vad: options.energyVad ? energyVad : engines.vad,
      brain: delayedBrain(engines.brain, options.brainDelayMs ?? 0, call.callSid),
      tts: instrumentedTts(engines.tts, call.callSid),
    };
  },
});
const address = await app.fastify.listen({ host: '127.0.0.1', port: 0 });

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
let cpuBase = process.cpuUsage();
let wallBase = now();
let maxRss = process.memoryUsage().rss;
const rssTimer = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 200);

function reset(): void {
  loop.reset();
  cpuBase = process.cpuUsage();
  wallBase = now();
  maxRss = process.memoryUsage().rss;
  aborts.length = 0;
}

function stats() {
  const cpu = process.cpuUsage(cpuBase);
  const mem = process.memoryUsage();
  maxRss = Math.max(maxRss, mem.rss);
  // Delay beyond the 10 ms sampling interval the histogram's samples include.
  const ms = (ns: number) => Math.max(0, Math.round(ns / 1e4 - 1000) / 100);
  return {
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    wallMs: now() - wallBase,
    rss: mem.rss,
    maxRss,
    heapUsed: mem.heapUsed,
    loop: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max), mean: ms(loop.mean) },
    aborts: [...aborts],
  };
}

async function exit(): Promise<void> {
  clearInterval(rssTimer);
  await Promise.race([app.drain(1000).then(() => app.fastify.close()), new Promise((r) => setTimeout(r, 5000))]);
  await engineSet.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
}

process.on('message', (m: { id?: number; command: string }) => {
  if (m.command === 'exit') return void exit();
  if (m.command === 'reset') reset();
  const result = m.command === 'stats' ? stats() : undefined;
  process.send?.({ id: m.id, result });
});
process.on('disconnect', () => void exit());
process.send?.({ ready: { url: address, engines: JSON.stringify(engineSet.names) } });
