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

/**
 * The two body watchdogs: armed after every event (first-token until content arrives, idle after),
 * paused while a delta is handed downstream. On expiry it aborts its signal with the stall.
 */
class StallWatchdog {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  stall: ClaudeStallError | null = null;

  constructor(private readonly options: Pick<AttemptOptions, 'firstTokenTimeoutMs' | 'idleTimeoutMs'>) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  arm(sawContent: boolean): void {
    this.disarm();
    const phase = sawContent ? 'idle' : 'first-token';
    const ms = sawContent ? this.options.idleTimeoutMs : this.options.firstTokenTimeoutMs;
    this.timer = setTimeout(() => {
      this.stall = new ClaudeStallError(phase, ms);
      this.controller.abort(this.stall);
    }, ms);
  }

  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** What one streamed message has said so far. */
interface MessageSoFar {
  blocks: Map<number, { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; json: string }>;
  usage: ClaudeUsage;
  stopReason: StopReason | null;
  stopped: boolean;
  text: string;
  /** A token or a tool call arrived (the first-token watchdog is done). */
  sawContent: boolean;
}

const emptyMessage = (): MessageSoFar => ({
  blocks: new Map(),
  usage: { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
  stopReason: null,
  stopped: false,
  text: '',
  sawContent: false,
});

/** Folds one stream event into the message; returns the text it added ('' for none). */
function accumulate(message: MessageSoFar, event: RawMessageStreamEvent): string {
  switch (event.type) {
    case 'message_start': {
      const u = event.message.usage;
      message.usage = { inputTokens: u.input_tokens, outputTokens: u.output_tokens, cacheReadInputTokens: u.cache_read_input_tokens ?? 0, cacheCreationInputTokens: u.cache_creation_input_tokens ?? 0 };
      return '';
    }
    case 'content_block_start': {
      // An empty text block start is no token yet; a tool call's start names the tool.
      const block = event.content_block;
      if (block.type === 'text') message.blocks.set(event.index, { type: 'text', text: block.text });
      else if (block.type === 'tool_use') {
        message.sawContent = true;
        message.blocks.set(event.index, { type: 'tool_use', id: block.id, name: block.name, json: '' });
      }
      return '';
    }
    case 'content_block_delta': {
      message.sawContent = true;
      const block = message.blocks.get(event.index);
      if (event.delta.type === 'text_delta' && block?.type === 'text') {
        block.text += event.delta.text;
        message.text += event.delta.text;
        return event.delta.text;
      }
      if (event.delta.type === 'input_json_delta' && block?.type === 'tool_use') block.json += event.delta.partial_json;
      return '';
    }
    case 'message_delta': {
      message.stopReason = event.delta.stop_reason ?? message.stopReason;
      // message_delta usage is cumulative: take it as the final count.
      const u = event.usage;
      message.usage.outputTokens = u.output_tokens;
      if (u.input_tokens != null) message.usage.inputTokens = u.input_tokens;
      if (u.cache_read_input_tokens != null) message.usage.cacheReadInputTokens = u.cache_read_input_tokens;
      if (u.cache_creation_input_tokens != null) message.usage.cacheCreationInputTokens = u.cache_creation_input_tokens;
      return '';
    }
    case 'message_stop':
      message.stopped = true;
      return '';
    default:
      return '';
  }
}

export async function* streamAttempt(
  client: Anthropic,
  params: MessageCreateParamsBase,
  options: AttemptOptions,
): AsyncGenerator<AttemptEvent, AttemptResult, undefined> {
  const watchdog = new StallWatchdog(options);
  const signal = AbortSignal.any([options.signal, watchdog.signal]);
  const stream = client.messages.stream({ ...params, stream: true } as Parameters<Anthropic['messages']['stream']>[0], {
    signal,
    maxRetries: 0,
    timeout: options.headersTimeoutMs,
  });
  // The SDK drops an error that lands while nobody awaits the iterator; keep it to rethrow.
  let streamError: unknown = null;
  stream.on('error', (error) => (streamError ??= error));

  const message = emptyMessage();
  watchdog.arm(false);
  try {
    for await (const event of stream as AsyncIterable<RawMessageStreamEvent>) {
      // The SDK still hands out events it buffered before an abort: a barge-in means stop now.
      if (options.signal.aborted) throw new APIUserAbortError();
      const text = accumulate(message, event);
      if (text) {
        watchdog.disarm();
        yield { type: 'text', text };
      }
      watchdog.arm(message.sawContent);
    }
  } catch (error) {
    throw watchdog.stall ?? error;
  } finally {
    watchdog.disarm();
    if (!message.stopped) stream.abort();
  }
  if (watchdog.stall) throw watchdog.stall;
  if (!message.stopped) throw streamError ?? new ClaudeIncompleteStreamError();

  const toolUses: ToolUseBlock[] = [];
  for (const [, block] of [...message.blocks].sort(([a], [b]) => a - b)) {
    if (block.type !== 'tool_use') continue;
    toolUses.push({ id: block.id, name: block.name, input: parseToolInput(block.json) });
  }
  return { text: message.text, toolUses, stopReason: message.stopReason, usage: message.usage };
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
