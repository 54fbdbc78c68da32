/**
 * A server set up for warm transfers against the Twilio REST fake: Twilio credentials, a
 * PUBLIC_URL the fake sends its signed callbacks to, the clinic tools on the app's own store
 * (embedded under a temp DATA_DIR, or a shared PostgreSQL store: then several of these are
 * several machines), and scripted speech with a real brain (the flow brain unless one is given).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import twilio from 'twilio';
import { buildApp, type App } from '../../src/app.js';
import { agentConfigSchema, type AgentConfig } from '../../src/config/agent-schema.js';
import { loadServerConfig } from '../../src/config/env.js';
import type { Brain } from '../../src/dialog/brain.js';
import { FlowBrain } from '../../src/dialog/flow-brain.js';
import { GatedToolInvoker, type ToolInvokerFactory } from '../../src/dialog/tool-invoker.js';
import { Metrics } from '../../src/observability/metrics.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { StateStore } from '../../src/store/ports.js';
import type { TransferStore } from '../../src/store/transfer-store.js';
import { createClinicTools } from '../../src/tools/clinic-tools.js';
import { systemClock } from '../../src/tools/clinic-time.js';
import { ToolRunner } from '../../src/tools/registry.js';
import { transferMetrics } from '../../src/transfer/transfer-metrics.js';
import { ScriptedStt, scriptedEngines } from '../fakes/scripted-engines.js';
import { FakeTwilioCaller } from '../twilio/fake-twilio-caller.js';

export const ACCOUNT = `AC${'1'.repeat(32)}`;
export const TOKEN = 'test-auth-token';
export const FROM = '+15551234567';
export const TO = '+15559870000';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface TransferAppOptions {
  /** The Twilio REST fake's base URL (TWILIO_API_URL). */
  apiUrl: string;
  /** Where this app listens. */
  port: number;
  /** PUBLIC_URL: where Twilio (the fake) sends callbacks; default this app's own address. */
  publicUrl?: string;
  stt: ScriptedStt;
  agentOverrides?: Record<string, unknown>;
  /** A shared store (PostgreSQL); default an embedded store under a fresh DATA_DIR, closed with the app. */
  store?: StateStore;
  /** The brain (default: the flow brain) over the gated clinic tools. */
  brain?: (agent: AgentConfig, tools: ToolInvokerFactory) => Brain;
  env?: Record<string, string>;
}

export interface TransferApp {
  app: App;
  store: StateStore;
  transfers: TransferStore;
  publicUrl: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTransferApp(options: TransferAppOptions): Promise<TransferApp> {
  const publicUrl = options.publicUrl ?? `http://127.0.0.1:${options.port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'warm-transfer-'));
  const env = {
    DATA_DIR: dataDir, LOG_LEVEL: 'silent', PUBLIC_URL: publicUrl, TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: TOKEN,
    TWILIO_API_URL: options.apiUrl, ADMIN_TOKEN: 'ops-token', ...options.env,
  };
  const config = loadServerConfig(env);
  const agent: AgentConfig = agentConfigSchema.parse({
    turn: { endSilenceMs: 300, onsetMs: 60 },
    bargeIn: { minSpeechMs: 100 },
    transfer: { hours: 'always', targets: [{ label: 'front desk', number: '+15550001000' }] },
    ...options.agentOverrides,
  });
  const metrics = new Metrics();
  const store = options.store ?? openEmbeddedStore({ dataDir });
  const { accountSid, authToken } = config.twilio;
  const tools = createClinicTools({
    bookings: store.bookings,
    calendar: agent.business.schedule,
    clock: systemClock,
    transfer: { accountSid, authToken, apiBaseUrl: options.apiUrl, routing: { config: agent.transfer, schedule: agent.business.schedule, mode: 'warm' }, store: store.transfers },
    onCallbackStored: () => transferMetrics(metrics.registry).outcomes.inc({ outcome: 'callback-taken' }),
  });
  const invokers: ToolInvokerFactory = (ctx) => new GatedToolInvoker({ config: agent, runner: new ToolRunner({ tools, call: { callSid: ctx.callSid, from: ctx.from } }) });
  const brain = options.brain ? options.brain(agent, invokers) : new FlowBrain({ config: agent, tools: invokers });
  const app = await buildApp(config, { agent, logger: pino({ level: 'silent' }), metrics, store, engines: () => scriptedEngines({ stt: options.stt, brain }) });
  await app.fastify.listen({ host: '127.0.0.1', port: options.port });
  return {
    app,
    store,
    transfers: store.transfers,
    publicUrl,
    dataDir,
    async close() {
      await app.drain(1000);
      await app.fastify.close();
      if (!options.store) await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A caller's media stream as Twilio opens it: announced on /voice, or (with `parameters`) a
 * resumed stream with the parameters Twilio was given. Signatures are over `publicUrl`; the
 * socket goes to `connectTo` (default publicUrl), i.e. to whichever instance the balancer picks.
 */
export function transferCaller(options: { publicUrl: string; callSid: string; parameters?: Record<string, string>; connectTo?: string }): FakeTwilioCaller {
  const signedUrl = `${options.publicUrl.replace('http', 'ws')}/media`;
  const url = `${(options.connectTo ?? options.publicUrl).replace('http', 'ws')}/media`;
  const announce = options.parameters
    ? false
    : { headers: (params: Record<string, string>) => ({ 'x-twilio-signature': twilio.getExpectedTwilioSignature(TOKEN, `${options.publicUrl}/voice`, params) }) };
  return new FakeTwilioCaller({
    announce,
    url,
    headers: { 'x-twilio-signature': twilio.getExpectedTwilioSignature(TOKEN, signedUrl, {}) },
    callSid: options.callSid,
    from: FROM,
    to: TO,
    playback: 'instant',
    ...(options.parameters ? { parameters: options.parameters } : {}),
  });
}
