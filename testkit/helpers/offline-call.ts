/**
 * Whole calls against the real offline engines (Silero VAD, pocketsphinx, the flow brain, flite,
 * SQLite clinic tools) in a test server of its own, and a caller that speaks a turn and waits for
 * the agent's reply. Shared by the offline call tests so each file says only what its callers do.
 *
 *   const offline = await startOfflineServer('offline-call-');
 *   const call = new OfflineTestCaller(offline.server, { speech: (text) => callerMulaw(text, 'rms') });
 *   await call.start(); expect(await call.say('book an appointment')).toMatch(/what day/i);
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { AgentConfig } from '../../src/config/agent-schema.js';
import { loadServerConfig } from '../../src/config/env.js';
import type { CallSession } from '../../src/dialog/call-session.js';
import { createEngines, type EngineSet } from '../../src/engines.js';
import type { AgentTurn, CallerTurn } from '../../src/store/call-record.js';
import { FakeTwilioCaller } from '../twilio/fake-twilio-caller.js';
import { until } from './process.js';
import { startTestServer, type TestServer } from './test-app.js';

export interface OfflineServer {
  server: TestServer;
  engines: EngineSet;
  /** The server's DATA_DIR (agent.db with the bookings, call records). */
  dataDir: string;
  close(): Promise<void>;
}

/** A test server on the offline engines, with a fresh DATA_DIR named after `prefix`. */
export async function startOfflineServer(prefix: string, agent: AgentConfig): Promise<OfflineServer> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const config = loadServerConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const engines = await createEngines({ config, agent, logger: pino({ level: 'silent' }) });
  const server = await startTestServer({ dataDir, agentConfig: agent, engines: (call) => engines.forCall(call) });
  return {
    server,
    engines,
    dataDir,
    async close() {
      await server.close();
      await engines.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface OfflineCallerOptions {
  /** μ-law caller audio for `text` (the caller's voice and line). */
  speech: (text: string) => Uint8Array;
  /** Silence sent after each utterance, so the agent's end-of-turn detection fires, ms. */
  trailingSilenceMs?: number;
  from?: string;
  playback?: 'instant' | 'realtime';
  /** Longest wait for a reply, ms. */
  replyTimeoutMs?: number;
}

export class OfflineTestCaller {
  readonly twilio: FakeTwilioCaller;
  session!: CallSession;

  constructor(private readonly server: TestServer, private readonly options: OfflineCallerOptions) {
    this.twilio = new FakeTwilioCaller({ url: server.wsUrl, playback: options.playback ?? 'instant', from: options.from ?? '+15551234567' });
  }

  /** Connects and resolves with the greeting. */
  async start(): Promise<string> {
    await this.twilio.start();
    await until(() => this.server.app.context.calls.session(this.twilio.callSid) !== undefined, 'session');
    this.session = this.server.app.context.calls.session(this.twilio.callSid)!;
    return this.awaitReply(0);
  }

  /** Speaks `text` once the agent is listening; resolves with the agent's reply. */
  async say(text: string): Promise<string> {
    await this.untilListening();
    const before = this.session.record.turns.length;
    await this.twilio.sendMulaw(this.options.speech(text), true);
    await this.twilio.silence(this.options.trailingSilenceMs ?? 700, true);
    return this.awaitReply(before + 2);
  }

  /** Presses `keys` once the agent is listening; resolves with the agent's reply. */
  async press(keys: string): Promise<string> {
    await this.untilListening();
    const before = this.session.record.turns.length;
    for (const key of keys) this.twilio.dtmf(key);
    return this.awaitReply(before + 2);
  }

  callerTurns(): CallerTurn[] {
    return this.session.record.turns.filter((t): t is CallerTurn => t.role === 'caller');
  }

  /** What the recogniser heard, turn by turn. */
  heard(): string[] {
    return this.callerTurns().map((t) => t.text);
  }

  async hangUp(): Promise<void> {
    this.twilio.stop();
    await until(() => this.session.isEnded, 'end');
    this.twilio.close();
  }

  private untilListening(): Promise<void> {
    return until(() => this.session.phase === 'listening' || this.session.isEnded, 'agent to listen');
  }

  private async awaitReply(turns: number): Promise<string> {
    await until(
      () => this.session.isEnded || (this.session.phase === 'listening' && this.session.record.turns.length >= turns),
      'agent reply',
      this.options.replyTimeoutMs ?? 20_000,
    );
    return this.session.record.turns.filter((t): t is AgentTurn => t.role === 'agent').at(-1)?.text ?? '';
  }
}
