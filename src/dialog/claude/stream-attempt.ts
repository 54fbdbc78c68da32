/**
 * One streaming request to Claude: yields text deltas the moment they arrive and returns the
 * assembled assistant message. The SDK's `timeout` covers only the response headers, so two
 * watchdogs guard the body: one until the first content event, one for silence between events.
 * Either aborts the request and throws ClaudeStallError. Watchdogs pause while a delta is handed
 * downstream, so a slow consumer never looks like a stalled model.
 */
import { APIUserAbortError, type Anthropic } from '@anthropic-ai/sdk';
import type { MessageCreateParamsBase, RawMessageStreamEvent, StopReason } from '@anthropic-ai/sdk/resources/messages/messages';
import { ClaudeIncompleteStreamError, ClaudeStallError } from './errors.js';

export interface ClaudeUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
}

export interface ToolUseBlock {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export interface AttemptResult {
  text: string;
  toolUses: ToolUseBlock[];
  stopReason: StopReason | null;
  usage: ClaudeUsage;
}

export interface AttemptOptions {
  signal: AbortSignal;
  firstTokenTimeoutMs: number;
  idleTimeoutMs: number;
  /** Headers timeout for the SDK (it covers nothing after the headers). */
  headersTimeoutMs: number;
}

export type AttemptEvent = { type: 'text'; text: string };

export async function* streamAttempt(
  client: Anthropic,
  params: MessageCreateParamsBase,
  options: AttemptOptions,
): AsyncGenerator<AttemptEvent, AttemptResult, undefined> {
  const watchdog = new AbortController();
  let stall: ClaudeStallError | null = null;
  let timer: NodeJS.Timeout | null = null;
  let sawContent = false;
  const arm = () => {
    disarm();
    const phase = sawContent ? 'idle' : 'first-token';
    const ms = sawContent ? options.idleTimeoutMs : options.firstTokenTimeoutMs;
    timer = setTimeout(() => {
      stall = new ClaudeStallError(phase, ms);
      watchdog.abort(stall);
    }, ms);
  };
  const disarm = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };

  const signal = AbortSignal.any([options.signal, watchdog.signal]);
  const stream = client.messages.stream({ ...params, stream: true } as Parameters<Anthropic['messages']['stream']>[0], {
    signal,
    maxRetries: 0,
    timeout: options.headersTimeoutMs,
  });
  // The SDK drops an error that lands while nobody awaits the iterator; keep it to rethrow.
  let streamError: unknown = null;
  stream.on('error', (error) => (streamError ??= error));

  const blocks = new Map<number, { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; json: string }>();
  const usage: ClaudeUsage = { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };
  let stopReason: StopReason | null = null;
  let stopped = false;
  let text = '';

  arm();
  try {
    for await (const event of stream as AsyncIterable<RawMessageStreamEvent>) {
      // The SDK still hands out events it buffered before an abort: a barge-in means stop now.
      if (options.signal.aborted) throw new APIUserAbortError();
      switch (event.type) {
        case 'message_start': {
          const u = event.message.usage;
          usage.inputTokens = u.input_tokens;
          usage.outputTokens = u.output_tokens;
          usage.cacheReadInputTokens = u.cache_read_input_tokens ?? 0;
          usage.cacheCreationInputTokens = u.cache_creation_input_tokens ?? 0;
          break;
        }
        case 'content_block_start':
          // An empty text block start is no token yet; a tool call's start names the tool.
          if (event.content_block.type === 'tool_use') sawContent = true;
          if (event.content_block.type === 'text') blocks.set(event.index, { type: 'text', text: event.content_block.text });
          else if (event.content_block.type === 'tool_use') {
            blocks.set(event.index, { type: 'tool_use', id: event.content_block.id, name: event.content_block.name, json: '' });
          }
          break;
        case 'content_block_delta': {
          sawContent = true;
          const block = blocks.get(event.index);
          if (event.delta.type === 'text_delta' && block?.type === 'text') {
            block.text += event.delta.text;
            text += event.delta.text;
            if (event.delta.text) {
              disarm();
              yield { type: 'text', text: event.delta.text };
            }
          } else if (event.delta.type === 'input_json_delta' && block?.type === 'tool_use') {
            block.json += event.delta.partial_json;
          }
          break;
        }
        case 'message_delta': {
          stopReason = event.delta.stop_reason ?? stopReason;
          // message_delta usage is cumulative: take it as the final count.
          const u = event.usage;
          usage.outputTokens = u.output_tokens;
          if (u.input_tokens != null) usage.inputTokens = u.input_tokens;
          if (u.cache_read_input_tokens != null) usage.cacheReadInputTokens = u.cache_read_input_tokens;
          if (u.cache_creation_input_tokens != null) usage.cacheCreationInputTokens = u.cache_creation_input_tokens;
          break;
        }
        case 'message_stop':
          stopped = true;
          break;
        default:
          break;
      }
      arm();
    }
  } catch (error) {
    throw stall ?? error;
  } finally {
    disarm();
    if (!stopped) stream.abort();
  }
  if (stall) throw stall;
  if (!stopped) throw streamError ?? new ClaudeIncompleteStreamError();

  const toolUses: ToolUseBlock[] = [];
  for (const [, block] of [...blocks].sort(([a], [b]) => a - b)) {
    if (block.type !== 'tool_use') continue;
    toolUses.push({ id: block.id, name: block.name, input: parseToolInput(block.json) });
  }
  return { text, toolUses, stopReason, usage };
}

/** An empty `input_json_delta` sequence means `{}`; anything unparsable is passed on as-is for the tool to reject. */
function parseToolInput(json: string): Record<string, unknown> {
  if (json.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { unparsable: json };
  }
}
