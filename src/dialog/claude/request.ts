/**
 * Builds the Messages API request for a turn: the system prompt from the agent config, the enabled
 * clinic tools (zod → JSON Schema) plus `end_call`, and the conversation as the caller heard it,
 * with this brain's tool exchanges spliced in where they happened. Cache breakpoints go on the last
 * tool, the static system block and the end of the conversation, so each request re-reads the
 * previous one's prefix from the prompt cache.
 */
import type { MessageParam, TextBlockParam, Tool, ContentBlockParam } from '@anthropic-ai/sdk/resources/messages/messages';
import { z } from 'zod';
import type { AgentConfig } from '../../config/agent-schema.js';
import { clinicToolInputs, type ClinicToolName } from '../../tools/calendar-schemas.js';
import type { ConversationTurn } from '../brain.js';
import { formatDigitsForSpeech } from '../slots/digits.js';
import { fillTemplate, joinList } from '../templates.js';

export const END_CALL_TOOL = 'end_call';
const EPHEMERAL = { type: 'ephemeral' } as const;

/** What the tools are for, written for the model (the tools' own descriptions are for people). */
const TOOL_DESCRIPTIONS: Record<ClinicToolName, string> = {
  check_availability:
    'List the free appointment times on a date (YYYY-MM-DD, clinic time zone). Pass a time (HH:MM, 24 h) to learn whether that exact time is free. Use before offering or booking a time.',
  book_appointment:
    'Book an appointment. Needs the caller\'s name, phone digits, date and time. If the result has status "needs-confirmation", read its readBack to the caller word for word, ask if it is correct, and call again with the same arguments only after they say yes.',
  find_bookings: "List the caller's upcoming appointments by phone number (digits only). Needed before cancelling or rescheduling: it gives the booking ids.",
  cancel_appointment:
    'Cancel an appointment by booking id (from find_bookings). A "needs-confirmation" result works as for book_appointment.',
  reschedule_appointment:
    'Move an appointment (booking id from find_bookings) to a new free date and time. A "needs-confirmation" result works as for book_appointment.',
  transfer_to_person:
    'Transfer the call to a person at the clinic; pass topic (book, reschedule, cancel or general) so the right person is called. Tell the caller you are transferring them before you call it. If the result says offerCallback, nobody can take the call: offer a call back instead.',
  request_callback:
    'Ask a member of staff to call the caller back: phone digits, preferred date (YYYY-MM-DD) and time (HH:MM, clinic time zone). Read all three back and call it only after the caller says yes; a "needs-confirmation" result works as for book_appointment.',
};

/** Zod 4 emits draft 2020-12 with a `$schema` key; the API wants just the object schema. */
function inputSchema(schema: z.ZodType): Tool.InputSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return { ...rest, type: 'object' } as Tool.InputSchema;
}

/**
 * The tool list depends only on which tools are enabled, and converting the zod schemas costs a
 * millisecond or two of main-thread time: built once per set of enabled tools, not per call.
 * Shared between calls, hence read-only.
 */
const toolLists = new Map<string, readonly Tool[]>();

export function buildTools(config: AgentConfig): readonly Tool[] {
  const key = config.tools.enabled.join(',');
  let tools = toolLists.get(key);
  if (!tools) {
    tools = Object.freeze(toolList(config.tools.enabled));
    toolLists.set(key, tools);
  }
  return tools;
}

function toolList(enabled: readonly ClinicToolName[]): Tool[] {
  const tools: Tool[] = enabled.map((name) => ({
    name,
    description: TOOL_DESCRIPTIONS[name],
    input_schema: inputSchema(clinicToolInputs[name]),
  }));
  tools.push({
    name: END_CALL_TOOL,
    description: 'Hang up after you have said goodbye. Call it when the caller is done or says goodbye.',
    input_schema: inputSchema(z.object({ reason: z.string().max(200).optional() }).strict()),
  });
  const last = tools[tools.length - 1]!;
  tools[tools.length - 1] = { ...last, cache_control: EPHEMERAL };
  return tools;
}

/**
 * Two system blocks: the static one (same for every call, cached with the tools) and a small
 * per-call one after the breakpoint (date, caller ID) so it does not spoil the shared prefix.
 */
export function buildSystem(config: AgentConfig, perCall: { today: string; weekday: string; callerId: string | null }): TextBlockParam[] {
  const b = config.business;
  const persona = fillTemplate(config.persona.systemPrompt, { persona: config.persona.name, businessName: b.name });
  const facts = [
    `Business: ${b.name}.`,
    `Opening hours: ${b.hoursText}`,
    `Address: ${b.address}`,
    b.phone ? `Front desk phone: ${formatDigitsForSpeech(b.phone)}.` : '',
    b.services.length > 0 ? `Services: ${joinList(b.services)}.` : '',
    `Appointments are ${b.schedule.slotMinutes} minutes long and can be booked up to ${b.schedule.daysAhead} days ahead.`,
  ].filter(Boolean);
  const rules = [
    'You are on a phone call: everything you write is spoken aloud. Plain sentences only; say times like "three thirty p.m.", never "15:30".',
    'Messages in square brackets are notes from the phone system, not the caller.',
    'Booking, cancelling and rescheduling only happen after the caller confirmed a read-back; the tools enforce it.',
    'Never say you booked, cancelled or moved anything unless a tool result says so.',
    'If you cannot help, offer to transfer the caller to a person.',
  ];
  const staticText = `${persona}\n\n${facts.join('\n')}\n\n${rules.join('\n')}`;
  const callText =
    `Today is ${perCall.weekday}, ${perCall.today} (clinic time zone ${b.schedule.timezone}). ` +
    (perCall.callerId ? `The caller's number is ${perCall.callerId}; offer to use it for bookings.` : 'The caller ID is withheld.');
  return [
    { type: 'text', text: staticText, cache_control: EPHEMERAL },
    { type: 'text', text: callText },
  ];
}

/** A piece of the conversation this brain adds to the heard history. */
export type JournalItem = { role: 'user' | 'assistant'; content: ContentBlockParam[] };

/** Items this brain inserted before `history[at]` (or at the end when `at === history.length`). */
export interface JournalEntry {
  at: number;
  items: JournalItem[];
}

const CALL_CONNECTED = '[The call connected.]';

/**
 * The heard conversation plus the journal, as alternating, non-empty messages that start with
 * the user and end with the user. `render` can replace how a caller entry is written (keypad
 * entries), keyed by history index, so a turn renders the same way in every later request.
 */
export function buildMessages(history: readonly ConversationTurn[], journal: readonly JournalEntry[], render: ReadonlyMap<number, string>): MessageParam[] {
  const items: JournalItem[] = [];
  const insertAt = (i: number) => {
    for (const entry of journal) if (entry.at === i) items.push(...entry.items);
  };
  history.forEach((turn, i) => {
    insertAt(i);
    const text = (render.get(i) ?? turn.text).trim();
    if (text) items.push({ role: turn.role === 'caller' ? 'user' : 'assistant', content: [{ type: 'text', text }] });
  });
  insertAt(history.length);

  const messages: { role: 'user' | 'assistant'; content: ContentBlockParam[] }[] = [];
  for (const item of items) {
    // An empty text block is a 400: barge-in before the first word leaves nothing to say.
    const content = item.content.filter((block) => block.type !== 'text' || block.text.trim() !== '');
    if (content.length === 0) continue;
    const last = messages[messages.length - 1];
    if (last && last.role === item.role) last.content.push(...content);
    else messages.push({ role: item.role, content: [...content] });
  }
  if (messages[0]?.role !== 'user') messages.unshift({ role: 'user', content: [{ type: 'text', text: CALL_CONNECTED }] });
  if (messages[messages.length - 1]?.role !== 'user') messages.push({ role: 'user', content: [{ type: 'text', text: '[The caller is waiting for your reply.]' }] });
  // Tool results must come first in a user message; merging may have put caller text before them.
  for (const message of messages) {
    if (message.role === 'user') message.content.sort((a, b) => Number(b.type === 'tool_result') - Number(a.type === 'tool_result'));
  }
  markCacheBreakpoint(messages);
  return messages;
}

/** The conversation breakpoint: the last block of the last message covers the whole prefix. */
function markCacheBreakpoint(messages: { content: ContentBlockParam[] }[]): void {
  const content = messages[messages.length - 1]?.content;
  const lastIndex = content ? content.length - 1 : -1;
  const block = content?.[lastIndex];
  if (!content || !block) return;
  content[lastIndex] = { ...block, cache_control: EPHEMERAL } as ContentBlockParam;
}
