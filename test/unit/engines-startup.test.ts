import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../src/config/load-agent-config.js';
import { loadServerConfig } from '../../src/config/env.js';
import { createEngines, StartupError } from '../../src/engines.js';

describe('engine selection at startup', () => {
  it('with no keys and a system package missing, fails at startup saying exactly what to install', async () => {
    // A PATH without the flite binary: the offline voice is unavailable and no cloud voice is configured.
    const config = loadServerConfig({ DATA_DIR: '/tmp/unused-engines-startup', PATH: '/nonexistent' });
    const failure = createEngines({ config, agent: loadAgentConfig('config/agent.yaml'), logger: pino({ level: 'silent' }) });
    await expect(failure).rejects.toBeInstanceOf(StartupError);
    await expect(failure).rejects.toThrow(/offline tts engine needs system packages that are missing \(.*flite.*\)[\s\S]*sudo apt-get install -y flite/);
  });
});
