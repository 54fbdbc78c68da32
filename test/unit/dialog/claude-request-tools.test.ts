import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../src/config/load-agent-config.js';
import { buildTools, END_CALL_TOOL } from '../../../src/dialog/claude/request.js';

const config = loadAgentConfig('config/agent.yaml');

describe('buildTools: one list per set of enabled tools', () => {
  it('lists the enabled tools then end_call, cache breakpoint on the last, plain object schemas', () => {
    const tools = buildTools(config);
    expect(tools.map((t) => t.name)).toEqual([...config.tools.enabled, END_CALL_TOOL]);
    expect(tools.at(-1)?.cache_control).toEqual({ type: 'ephemeral' });
    for (const tool of tools) {
      expect(tool.input_schema.type).toBe('object');
      expect(tool.input_schema).not.toHaveProperty('$schema');
    }
  });

  it('hands every call the same read-only list, and a config enabling other tools its own', () => {
    const first = buildTools(config);
    expect(buildTools({ ...config })).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    const fewer = { ...config, tools: { ...config.tools, enabled: config.tools.enabled.slice(0, 1) } };
    const other = buildTools(fewer);
    expect(other).not.toBe(first);
    expect(other.map((t) => t.name)).toEqual([config.tools.enabled[0], END_CALL_TOOL]);
    // The first list is untouched by the second (the cache breakpoint moved to its own copy).
    expect(first.map((t) => t.name)).toEqual([...config.tools.enabled, END_CALL_TOOL]);
    expect(first.filter((t) => t.cache_control)).toHaveLength(1);
  });
});
