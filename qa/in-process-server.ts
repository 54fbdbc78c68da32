/**
 * The real server with the offline engines, in this process, on 127.0.0.1:0 with a temporary
 * DATA_DIR, for replays and the fixture generator. The engines (VAD, decoders, TTS, database) are
 * built once; `prepare()` then sets up each call like the one that was recorded: the agent config
 * with the fixture's overrides, the wall clock pinned to the recording's start (so "tomorrow at
 * ten" is the same slot), and a fresh bookings table holding only the fixture's seed bookings.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { buildApp, type App } from '../src/app.js';
import type { AgentConfig } from '../src/config/agent-schema.js';
import { loadServerConfig } from '../src/config/env.js';
import { parseAgentConfig } from '../src/config/load-agent-config.js';
import { createEngines, type EngineSet } from '../src/engines.js';
import { BookingStore } from '../src/store/booking-store.js';
import type { CallRecord } from '../src/store/call-record.js';
import { openDatabase, type Database } from '../src/store/database.js';
import { seedSchedule } from '../src/tools/calendar.js';
import type { SeedBooking } from '../src/recording/fixture-format.js';

export interface CallSetup {
  /** Epoch ms the wall clock reads when the call starts. */
  clockAtStart: number;
  agentOverrides?: Record<string, unknown>;
  seedBookings?: SeedBooking[];
  /** Record calls as fixtures under DATA_DIR/recordings (the generator). */
  recording?: { enabled: boolean; maskCallerAudio: boolean };
}

export class InProcessServer {
  private app: App | null = null;
  private wsUrlValue = '';
  /** Pinned wall clock: `pinnedAt` epoch ms at `pinnedPerf` performance.now(). */
  private pinnedAt = Date.now();
  private pinnedPerf = performance.now();

  private constructor(
    readonly dataDir: string,
    private readonly baseAgent: AgentConfig,
    private readonly engines: EngineSet,
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  static async start(options: { agent: AgentConfig; logger?: Logger }): Promise<InProcessServer> {
    const dataDir = mkdtempSync(join(tmpdir(), 'replay-'));
    const logger = options.logger ?? pino({ level: 'silent' });
    const config = loadServerConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    let server: InProcessServer | null = null;
    const now = () => (server ? server.now() : Date.now());
    const engines = await createEngines({ config, agent: options.agent, logger, now });
    server = new InProcessServer(dataDir, options.agent, engines, openDatabase({ dataDir }), logger);
    return server;
  }

  now(): number {
    return this.pinnedAt + (performance.now() - this.pinnedPerf);
  }

  get wsUrl(): string {
    return this.wsUrlValue;
  }

  get context(): App['context'] {
    if (!this.app) throw new Error('prepare() first');
    return this.app.context;
  }

  /** A fresh app for the next call, set up as described. */
  async prepare(setup: CallSetup): Promise<void> {
    await this.closeApp();
    this.pinnedAt = setup.clockAtStart;
    this.pinnedPerf = performance.now();
    const agent = this.agentFor(setup);
    this.db.exec('DELETE FROM bookings');
    const clock = { now: () => this.now() };
    seedSchedule(this.db, agent.business.schedule, clock);
    const store = new BookingStore(this.db, clock.now);
    for (const booking of setup.seedBookings ?? []) {
      const change = store.book(booking);
      if (!change.ok) throw new Error(`seed booking ${booking.date} ${booking.time}: ${change.message}`);
    }
    const config = loadServerConfig({ DATA_DIR: this.dataDir, LOG_LEVEL: 'silent' });
    // `--speed max` replays run far ahead of real time on purpose: no pace limit on this server.
    this.app = await buildApp(config, { agent, engines: (call) => this.engines.forCall(call), logger: this.logger, now: () => this.now(), mediaMessageRate: null });
    const address = await this.app.fastify.listen({ host: '127.0.0.1', port: 0 });
    this.wsUrlValue = address.replace(/^http/, 'ws') + '/media';
  }

  fetchRecord = async (callSid: string): Promise<CallRecord | undefined> => {
    if (!this.app) return undefined;
    await this.app.context.records.flush();
    return this.app.context.records.get(callSid);
  };

  /** Finish writes (records, recordings) of the current app. */
  async flush(): Promise<void> {
    await this.app?.context.records.flush();
    await this.app?.context.recordings?.flush();
  }

  async close(): Promise<void> {
    await this.closeApp();
    this.db.close();
    await this.engines.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private agentFor(setup: CallSetup): AgentConfig {
    const merged = deepMerge(structuredClone(this.baseAgent) as Record<string, unknown>, setup.agentOverrides ?? {});
    if (setup.recording) merged.recording = { ...(merged.recording as object), ...setup.recording };
    return parseAgentConfig(merged, 'agent config with fixture overrides');
  }

  private async closeApp(): Promise<void> {
    if (!this.app) return;
    await this.app.drain(2000);
    await this.app.fastify.close();
    this.app = null;
  }
}

export function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(source)) {
    const current = target[key];
    if (isPlainObject(value) && isPlainObject(current)) deepMerge(current, value);
    else target[key] = value;
  }
  return target;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
