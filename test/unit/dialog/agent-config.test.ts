import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig, parseAgentConfig } from '../../../src/config/load-agent-config.js';

const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
function writeYaml(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('agent config', () => {
  it('loads the default Maple Street Clinic agent', () => {
    const config = loadAgentConfig('config/agent.yaml');
    expect(config.business.name).toBe('Maple Street Clinic');
    expect(config.business.schedule.timezone).toBe('America/New_York');
    expect(config.offline.intents.map((i) => i.id)).toContain('reschedule');
    expect(config.offline.steps.date.reprompts.length).toBeGreaterThanOrEqual(2);
    expect(config.recording.redact.custom).toEqual([]);
  });

  it('fills every section from defaults for an empty file', () => {
    const config = parseAgentConfig({}, 'empty');
    expect(config.timeouts.inactivityMs).toBe(8000);
    expect(config.offline.intents.length).toBeGreaterThan(5);
    expect(config.llm.maxTokens).toBe(300);
    expect(config.tools.enabled).toContain('book_appointment');
  });

  it('names the exact field of a type error', () => {
    const path = writeYaml('bad-type.yaml', 'timeouts:\n  inactivityMs: soon\n');
    expect(() => loadAgentConfig(path)).toThrow(`${path}: timeouts.inactivityMs: expected number, received string`);
  });

  it('rejects typos as unknown fields', () => {
    const path = writeYaml('typo.yaml', 'recording:\n  redact:\n    emials: true\n');
    expect(() => loadAgentConfig(path)).toThrow(`${path}: recording.redact.emials: unknown field`);
  });

  it('rejects grammar phrases with digits or punctuation', () => {
    expect(() => parseAgentConfig({ offline: { intents: [{ id: 'x', action: 'book', examples: ['book 2'] }] } }, 'f')).toThrow(
      /f: offline\.intents\.0\.examples\.0: lower-case words/,
    );
  });

  it('rejects duplicate keypad keys and bad regexes', () => {
    expect(() =>
      parseAgentConfig({ offline: { intents: [{ id: 'a', action: 'book', dtmf: '1', keywords: ['a'] }, { id: 'b', action: 'cancel', dtmf: '1', keywords: ['b'] }] } }, 'f'),
    ).toThrow('f: offline.intents.1.dtmf: keypad key "1" used twice');
    expect(() => parseAgentConfig({ recording: { redact: { custom: ['(unclosed'] } } }, 'f')).toThrow('recording.redact.custom.0: expected a valid regular expression');
  });

  it('reports invalid YAML with the file name', () => {
    const path = writeYaml('broken.yaml', 'a: [1, 2\n');
    expect(() => loadAgentConfig(path)).toThrow(`${path}: invalid YAML`);
  });
});
