/**
 * A local stand-in for the Anthropic Messages API, close enough to the wire protocol that the real
 * SDK cannot tell: `POST /v1/messages` with `stream: true` answers as Server-Sent Events
 * (`event: <type>\ndata: <json>\n\n`) in the API's order — message_start, ping, per block
 * content_block_start / content_block_delta… / content_block_stop, message_delta, message_stop.
 * It checks the API key (`x-api-key` or `Authorization: Bearer`) and `anthropic-version`, rejects the history mistakes the real API rejects
 * (empty text blocks, a tool_use without its tool_result, a first message that is not the user's),
 * records every request, and plays scripted replies with injectable latency and faults.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeBlock =
  | { type: 'text'; chunks: string[] }
  /** The input is streamed as `jsonChunks` pieces of partial JSON (default 3). */
  | { type: 'tool_use'; name: string; input: Record<string, unknown>; id?: string; jsonChunks?: number };

export interface FakeUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

export type FakeFault =
  /** An HTTP error instead of a stream (429 rate_limit_error, 529 overloaded_error, 500 api_error, …). */
  | { type: 'http'; status: number; retryAfterSeconds?: number; errorType?: string }
  /** An `error` event after `afterChunks` content deltas. */
  | { type: 'error-event'; afterChunks: number; errorType?: string }
  /** Destroy the socket after `afterChunks` content deltas. */
  | { type: 'drop'; afterChunks: number }
  /** Stop sending (connection left open) after `afterChunks` content deltas. */
  | { type: 'stall'; afterChunks: number };

export interface FakeReply {
  blocks?: FakeBlock[];
  stopReason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';
  usage?: FakeUsage;
  headersDelayMs?: number;
  /** Before message_start. */
  firstEventDelayMs?: number;
  /** Before each content delta. */
  chunkDelayMs?: number;
  fault?: FakeFault;
}

export interface RecordedRequest {
  headers: IncomingMessage['headers'];
  body: Record<string, any>;
  /** Status sent (200 for a stream, even one that later failed). */
  status: number;
  /** The client closed the connection before the reply was complete. */
  clientClosedEarly: boolean;
  /** Resolves when the connection is closed, by either side. */
  closed: Promise<void>;
}

const HTTP_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export class AnthropicFake {
  readonly requests: RecordedRequest[] = [];
  /** Replies in request order; when empty, `fallbackReply` answers (a fixed, short text). */
  readonly script: FakeReply[] = [];
  fallbackReply: FakeReply = { blocks: [{ type: 'text', chunks: ['OK.'] }] };
  private server: Server | null = null;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(readonly apiKey = 'test-key') {}

  get baseUrl(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('fake not started');
    return `http://127.0.0.1:${address.port}`;
  }

  enqueue(...replies: FakeReply[]): this {
    this.script.push(...replies);
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: Record<string, any> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, any>;
    } catch {
      return this.httpError(res, 400, 'invalid JSON body');
    }
    let finished = false;
    let resolveClosed!: () => void;
    const record: RecordedRequest = { headers: req.headers, body, status: 0, clientClosedEarly: false, closed: new Promise((r) => (resolveClosed = r)) };
    res.on('close', () => {
      if (!finished) record.clientClosedEarly = true;
      resolveClosed();
    });
    const markDone = () => (finished = true);

    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/messages') return void this.httpError(res, 404, 'not found', record, markDone);
    this.requests.push(record);
    // SDK 1.x sends the key as `Authorization: Bearer`; older clients and curl use `x-api-key`. The API takes both.
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (req.headers['x-api-key'] !== this.apiKey && bearer !== this.apiKey) return void this.httpError(res, 401, 'invalid x-api-key', record, markDone);
    const version = req.headers['anthropic-version'];
    if (typeof version !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(version)) {
      return void this.httpError(res, 400, 'anthropic-version header is required', record, markDone);
    }
    const problem = validateRequest(body);
    if (problem) return void this.httpError(res, 400, problem, record, markDone);

    const reply = this.script.shift() ?? this.fallbackReply;
    await delay(reply.headersDelayMs);
    if (reply.fault?.type === 'http') {
      return void this.httpError(res, reply.fault.status, 'scripted failure', record, markDone, reply.fault.retryAfterSeconds, reply.fault.errorType);
    }
    record.status = 200;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': requestId() });
    res.flushHeaders();
    await this.streamReply(res, body, reply);
    if (!res.destroyed && reply.fault?.type !== 'stall') {
      markDone();
      res.end();
    }
  }

  private async streamReply(res: ServerResponse, body: Record<string, any>, reply: FakeReply): Promise<void> {
    const open = () => !res.destroyed && !res.writableEnded;
    const send = (type: string, data: object) => {
      if (open()) res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    };
    const u = reply.usage ?? {};
    const usage = {
      input_tokens: u.input_tokens ?? 100,
      cache_creation_input_tokens: u.cache_creation_input_tokens ?? 0,
      cache_read_input_tokens: u.cache_read_input_tokens ?? 0,
    };
    const blocks = reply.blocks ?? [];
    await delay(reply.firstEventDelayMs);
    send('message_start', {
      message: {
        id: `msg_${randomBytes(8).toString('hex')}`,
        type: 'message',
        role: 'assistant',
        model: String(body.model),
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    });
    send('ping', {});
    const fault = reply.fault;
    let deltas = 0;
    /** Before each delta: returns false when a fault ends the stream here. */
    const beforeDelta = async (): Promise<boolean> => {
      if (fault && fault.type !== 'http' && deltas === fault.afterChunks) {
        if (fault.type === 'error-event') send('error', { error: { type: fault.errorType ?? 'overloaded_error', message: 'Overloaded' } });
        if (fault.type === 'drop') res.destroy();
        // stall: leave the connection open and silent until the client gives up.
        return false;
      }
      await delay(reply.chunkDelayMs);
      deltas++;
      return open();
    };
    for (const [index, block] of blocks.entries()) {
      if (block.type === 'text') {
        send('content_block_start', { index, content_block: { type: 'text', text: '' } });
        for (const text of block.chunks) {
          if (!(await beforeDelta())) return;
          send('content_block_delta', { index, delta: { type: 'text_delta', text } });
        }
      } else {
        const id = block.id ?? `toolu_${randomBytes(8).toString('hex')}`;
        send('content_block_start', { index, content_block: { type: 'tool_use', id, name: block.name, input: {} } });
        for (const partial_json of splitJson(JSON.stringify(block.input), block.jsonChunks ?? 3)) {
          if (!(await beforeDelta())) return;
          send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } });
        }
      }
      send('content_block_stop', { index });
    }
    if (fault && fault.type !== 'http' && deltas === fault.afterChunks && !(await beforeDelta())) return;
    const stop_reason = reply.stopReason ?? (blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
    send('message_delta', { delta: { stop_reason, stop_sequence: null }, usage: { ...usage, output_tokens: u.output_tokens ?? 10 } });
    send('message_stop', {});
  }

  private httpError(
    res: ServerResponse,
    status: number,
    message: string,
    record?: RecordedRequest,
    markDone?: () => void,
    retryAfterSeconds?: number,
    errorType?: string,
  ): void {
    if (record) record.status = status;
    markDone?.();
    const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': requestId() };
    if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
    // Real 529s come with x-should-retry; it matters only to SDK retries, which the brain turns off.
    res.writeHead(status, headers);
    res.end(JSON.stringify({ type: 'error', error: { type: errorType ?? HTTP_ERROR_TYPES[status] ?? 'api_error', message }, request_id: requestId() }));
  }
}

/** The history rules the real API enforces with a 400. */
export function validateRequest(body: Record<string, any>): string | null {
  if (body.stream !== true) return 'this fake only streams: stream must be true';
  if (typeof body.model !== 'string' || typeof body.max_tokens !== 'number') return 'model and max_tokens are required';
  const messages = body.messages as { role: string; content: string | { type: string; [k: string]: any }[] }[] | undefined;
  if (!Array.isArray(messages) || messages.length === 0) return 'messages: at least one message is required';
  if (messages[0]!.role !== 'user') return 'messages: first message must use the "user" role';
  for (const [i, message] of messages.entries()) {
    const content = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
    if (content.length === 0) return `messages.${i}: content must not be empty`;
    for (const block of content) {
      if (block.type === 'text' && String(block.text).trim() === '') return `messages.${i}: text content blocks must contain non-whitespace text`;
    }
    const toolUses = content.filter((b) => b.type === 'tool_use').map((b) => String(b.id));
    if (toolUses.length === 0) continue;
    const next = messages[i + 1];
    const nextContent = next && typeof next.content !== 'string' ? next.content : [];
    const answered = new Set(nextContent.filter((b) => b.type === 'tool_result').map((b) => String(b.tool_use_id)));
    const missing = toolUses.filter((id) => !answered.has(id));
    if (missing.length > 0) return `messages.${i + 1}: tool_use ids were found without tool_result blocks immediately after: ${missing.join(', ')}`;
    const firstNonResult = nextContent.findIndex((b) => b.type !== 'tool_result');
    if (firstNonResult >= 0 && nextContent.slice(firstNonResult).some((b) => b.type === 'tool_result')) {
      return `messages.${i + 1}: tool_result blocks must come first`;
    }
  }
  return null;
}

function splitJson(json: string, pieces: number): string[] {
  const size = Math.max(1, Math.ceil(json.length / Math.max(1, pieces)));
  const out: string[] = [];
  for (let i = 0; i < json.length; i += size) out.push(json.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

function delay(ms: number | undefined): Promise<void> {
  return ms ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

function requestId(): string {
  return `req_${randomBytes(12).toString('hex')}`;
}
