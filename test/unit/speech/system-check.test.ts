import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSystemPackages, defaultCheckEnv, requiredAptPackages, type CheckEnv } from '../../../src/speech/system-check.js';

const real = defaultCheckEnv();
/** The real machine, minus the files whose path matches `hide`. */
const without = (hide: RegExp): CheckEnv => ({
  ...real,
  isFile: (p) => !hide.test(p) && real.isFile(p),
  isExecutable: (p) => !hide.test(p) && real.isExecutable(p),
  resolveModule: (s) => (hide.test(s) ? undefined : real.resolveModule(s)),
});

describe('checkSystemPackages', () => {
  it('passes on this (provisioned) machine', () => {
    expect(checkSystemPackages()).toEqual({ ok: true, available: { tts: true, stt: true, sileroVad: true }, missing: [] });
  });

  it.each([
    { hide: /flite/, features: { tts: false, stt: true, sileroVad: true }, command: 'apt-get install -y flite' },
    { hide: /pocketsphinx\/__init__/, features: { tts: true, stt: false, sileroVad: true }, command: 'apt-get install -y python3-pocketsphinx' },
    { hide: /model\/en-us/, features: { tts: true, stt: false, sileroVad: true }, command: 'apt-get install -y pocketsphinx-en-us' },
    { hide: /flite|python3/, features: { tts: false, stt: false, sileroVad: true }, command: 'apt-get install -y flite python3 python3-pocketsphinx' },
    { hide: /onnxruntime/, features: { tts: true, stt: true, sileroVad: false }, command: undefined },
  ])('reports $hide as missing', ({ hide, features, command }) => {
    const result = checkSystemPackages(without(hide));
    expect(result.ok).toBe(false);
    expect(result.available).toEqual(features);
    expect(result.installCommand).toBe(command);
    expect(result.missing.every((m) => m.fix.length > 0)).toBe(true);
  });

  it('matches scripts/system-packages.txt', () => {
    const listed = readFileSync(new URL('../../../scripts/system-packages.txt', import.meta.url), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect([...listed].sort()).toEqual(requiredAptPackages().sort());
  });
});
