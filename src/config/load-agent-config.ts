/**
 * Reads and validates the agent definition file. Errors name the file and the exact field, e.g.
 * `config/agent.yaml: timeouts.inactivityMs: expected number`, so a typo is fixed in one look.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { agentConfigSchema, type AgentConfig } from './agent-schema.js';

export class AgentConfigError extends Error {
  constructor(
    message: string,
    readonly issues: readonly string[],
  ) {
    super(message);
    this.name = 'AgentConfigError';
  }
}

/** `a.b[2].c`-style path → `a.b.2.c`, the form people search the YAML for. */
function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown field`).join('; ');
  }
  // zod 4 says "Invalid input: expected number, received string"; the part after the colon is enough.
  const message = issue.message.replace(/^Invalid input: /, '');
  return `${formatPath(issue.path)}: ${message}`;
}

/** Validates an already parsed document; `label` names the source in errors. */
export function parseAgentConfig(document: unknown, label: string): AgentConfig {
  const result = agentConfigSchema.safeParse(document ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map(describeIssue);
  throw new AgentConfigError(issues.map((i) => `${label}: ${i}`).join('\n'), issues);
}

export function loadAgentConfig(path: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AgentConfigError(`${path}: cannot read: ${(error as Error).message}`, []);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    const detail = error instanceof YAMLParseError ? error.message : String(error);
    throw new AgentConfigError(`${path}: invalid YAML: ${detail}`, []);
  }
  return parseAgentConfig(document, path);
}
