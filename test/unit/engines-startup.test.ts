import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../src/config/load-agent-config.js';
import { loadServerConfig } from '../../src/config/env.js';
import { checkSystem, createEngines, StartupError } from '../../src/engines.js';
import type { SystemCheckResult } from '../../src/speech/system-check.js';

describe('engine selection at startup', () => {
  it('with no keys and a system package missing, fails at startup saying exactly what to install', async () => {
    // A PATH without the flite binary: the offline voice is unavailable and no cloud voice is configured.
    const config = loadServerConfig({ DATA_DIR: '/tmp/unused-engines-startup', PATH: '/nonexistent' });
    const failure = createEngines({ config, agent: loadAgentConfig('config/agent.yaml'), logger: pino({ level: 'silent' }) });
    await expect(failure).rejects.toBeInstanceOf(StartupError);
    await expect(failure).rejects.toThrow(/offline tts engine needs system packages that are missing \(.*flite.*\)[\s\S]*sudo apt-get install -y flite/);
  });
});

describe('checkSystem', () => {
  const system = (available: { stt: boolean; tts: boolean }): SystemCheckResult => ({
    ok: available.stt && available.tts,
    available: { ...available, sileroVad: true },
    missing: [
      ...(available.stt ? [] : [{ feature: 'stt' as const, what: 'pocketsphinx', fix: 'apt-get install -y python3-pocketsphinx' }]),
      ...(available.tts ? [] : [{ feature: 'tts' as const, what: 'flite', fix: 'apt-get install -y flite' }]),
    ],
    installCommand: 'apt-get install -y flite',
  });
  const warnings: string[] = [];
  const logger = { warn: (a: unknown, b?: string) => void warnings.push(typeof a === 'string' ? a : (b ?? '')) } as Pick<Logger, 'warn'>;
  const env = (keys: Record<string, string>) => loadServerConfig({ DATA_DIR: '/tmp/unused-engines-startup', ...keys });
  const cloudKeys = { DEEPGRAM_API_KEY: 'dg', ELEVENLABS_API_KEY: 'xi', ELEVENLABS_VOICE_ID: 'voice' };

  it.each([
    ['offline, everything installed', {}, { stt: true, tts: true }, { stt: false, tts: false }, null],
    ['offline, flite missing', {}, { stt: true, tts: false }, null, /offline tts engine/],
    ['offline, both missing', {}, { stt: false, tts: false }, null, /offline stt and tts engine/],
    ['cloud, nothing installed: runs without backups', cloudKeys, { stt: false, tts: false }, { stt: true, tts: true }, null],
    ['ElevenLabs key without a voice id: the offline voice', { ELEVENLABS_API_KEY: 'xi' }, { stt: true, tts: true }, { stt: false, tts: false }, null],
  ] as const)('%s', (_name, keys, available, cloud, error) => {
    const run = () => checkSystem(env(keys), logger, system(available));
    if (error) expect(run).toThrow(error);
    else expect(run().cloud).toEqual(cloud);
  });

  it('warns when a cloud stage has no offline backup', () => {
    warnings.length = 0;
    checkSystem(env(cloudKeys), logger, system({ stt: false, tts: true }));
    expect(warnings).toEqual(['no offline stt backup: if the cloud provider fails, this stage has no fallback']);
  });
});
