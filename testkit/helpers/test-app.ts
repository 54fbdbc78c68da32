import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { buildApp, type App } from '../../src/app.js';
import { agentConfigSchema, type AgentConfig } from '../../src/config/agent-schema.js';
import type { CallContext } from '../../src/dialog/brain.js';
import { loadServerConfig } from '../../src/config/env.js';
import type { CallEngines } from '../../src/dialog/call-engines.js';
import { scriptedEngines } from '../fakes/scripted-engines.js';

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestServer(options: {
  /** Use this data directory (e.g. one the engines' database already lives in). */
  dataDir?: string;
  env?: Record<string, string>;
  agent?: Record<string, unknown>;
  /** A complete agent config (instead of test defaults + `agent` overrides). */
  agentConfig?: AgentConfig;
  engines?: (call: CallContext) => CallEngines;
  logger?: Logger;
} = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'voice-test-'));
  const config = loadServerConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...options.env });
  const agent = options.agentConfig ?? agentConfigSchema.parse({
    turn: { endSilenceMs: 300, onsetMs: 60 },
    bargeIn: { minSpeechMs: 100 },
    ...options.agent,
  });
  const app = await buildApp(config, {
    agent,
    engines: options.engines ?? (() => scriptedEngines()),
    logger: options.logger ?? pino({ level: 'silent' }),
  });
  const address = await app.fastify.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    url: address,
    wsUrl: address.replace(/^http/, 'ws') + '/media',
    dataDir,
    close: async () => {
      await app.drain(1000);
      await app.fastify.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
