/**
 * Which tool arguments need confirm-back and how they are read back: the one place critical
 * fields come from is the agent config (`slots.fields.*.critical`, `slots.readBack`). The gated
 * invoker (tool-invoker.ts) applies it to every tool call of both brains.
 */
import type { AgentConfig } from '../config/agent-schema.js';
import type { SlotName } from '../config/business-schema.js';
import { formatDateForSpeech } from './slots/dates.js';
import { formatDigitsForSpeech } from './slots/digits.js';
import { formatTimeForSpeech } from './slots/times.js';
import { fillTemplate } from './templates.js';

type ReadBackTool = keyof AgentConfig['slots']['readBack'];

function hasReadBack(config: AgentConfig, tool: string): tool is ReadBackTool {
  return Object.hasOwn(config.slots.readBack, tool);
}

/**
 * Critical arguments of a call: those whose slot is marked critical. Only state-changing tools
 * (those with a read-back template) are gated; lookups like check_availability run freely.
 */
export function criticalArgsFor(config: AgentConfig, tool: string, args: Readonly<Record<string, unknown>>): string[] {
  if (!hasReadBack(config, tool)) return [];
  const fields = config.slots.fields;
  return Object.keys(args).filter((name) => fields[name as SlotName]?.critical === true);
}

/** A slot value as it is spoken in a read-back ("2025-03-18" → "Tuesday, March eighteenth"). */
export function speakSlot(config: AgentConfig, name: string, value: string): string {
  switch (config.slots.fields[name as SlotName]?.type) {
    case 'date':
      return formatDateForSpeech(value);
    case 'time':
      return formatTimeForSpeech(value);
    case 'phone':
      return formatDigitsForSpeech(value);
    default:
      return value;
  }
}

/**
 * The read-back sentence for a tool call. `extra` supplies values not among the arguments, e.g.
 * `oldDate`/`oldTime` of the booking being moved, already in spoken form.
 */
export function readBackText(config: AgentConfig, tool: string, args: Readonly<Record<string, unknown>>, extra: Readonly<Record<string, string>> = {}): string {
  if (!hasReadBack(config, tool)) return '';
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(args)) if (typeof value === 'string') vars[name] = speakSlot(config, name, value);
  return fillTemplate(config.slots.readBack[tool], { ...vars, ...extra });
}
