/**
 * A local stand-in for ElevenLabs on 127.0.0.1: the multi-context text-to-speech WebSocket and the
 * HTTP stream endpoint, speaking their wire formats (see src/speech/elevenlabs-socket.ts).
 *
 * Audio is deterministic fake μ-law: `msPerWord` per word, bytes never 0xFF (μ-law silence), cut
 * into `chunkMs` chunks, each with character alignment relative to the chunk like the real server.
 * Text is buffered per context and rendered on `flush` (or close_socket). As documented,
 * `close_context` drops unflushed text, lets flushed audio finish, then sends isFinal.
 * Everything received is recorded for assertions; latency and faults are settable at any time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';

export interface FakeLatency {
  /** Before the first audio of each flushed text (socket) or of each HTTP response. */
  firstByteMs: number;
  /** Before every further chunk. */
  perChunkMs: number;
}

export interface FakeFaults {
  /** Answer WebSocket upgrades with 503. */
  refuseUpgrade: boolean;
  /** Terminate a socket (no close frame) after it has carried this many audio messages. */
  dropSocketAfterChunks: number | null;
  /** Accept socket text but never answer it. */
  stallSocket: boolean;
  /** Answer every HTTP synthesis with this status. */
  httpStatus: number | null;
  /** Send HTTP headers, then nothing. */
  stallHttp: boolean;
}

export interface FakeContextRecord {
  connection: number;
  contextId: string;
  /** Text messages, as received (keep-alive empty strings and the ' ' opener excluded). */
  texts: string[];
  flushes: number;
  keepAlives: number;
  closedByClient: boolean;
  finalSent: boolean;
  audioMessages: number;
}

export interface FakeHttpRecord {
  voiceId: string;
  text: string;
  modelId: unknown;
  outputFormat: string | null;
}

interface LiveContext {
  record: FakeContextRecord;
  buffer: string;
  jobs: string[];
  running: boolean;
  closing: boolean;
  dead: boolean;
}

const SOCKET_PATH = /^\/v1\/text-to-speech\/([^/]+)\/multi-stream-input$/;
const HTTP_PATH = /^\/v1\/text-to-speech\/([^/]+)\/stream$/;

export class FakeElevenLabs {
  readonly latency: FakeLatency = { firstByteMs: 0, perChunkMs: 0 };
  readonly faults: FakeFaults = { refuseUpgrade: false, dropSocketAfterChunks: null, stallSocket: false, httpStatus: null, stallHttp: false };
  /** Successful WebSocket upgrades. */
  connections = 0;
  openSockets = 0;
  readonly contexts: FakeContextRecord[] = [];
  readonly httpRequests: FakeHttpRecord[] = [];
  readonly socketQueries: URLSearchParams[] = [];
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  private constructor(
    private readonly server: Server,
    readonly apiKey: string,
    readonly msPerWord: number,
    readonly chunkMs: number,
  ) {}

  static async start(options: { apiKey?: string; msPerWord?: number; chunkMs?: number } = {}): Promise<FakeElevenLabs> {
    const server = createServer();
    const fake = new FakeElevenLabs(server, options.apiKey ?? 'test-key', options.msPerWord ?? 60, options.chunkMs ?? 100);
    server.on('request', (req, res) => fake.onHttp(req, res));
    server.on('upgrade', (req, socket, head) => fake.onUpgrade(req, socket, head));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Bytes of audio the fake renders for `text`. */
  audioBytesFor(text: string): number {
    return words(text) * this.msPerWord * 8;
  }

  closedContexts(): string[] {
    return this.contexts.filter((c) => c.closedByClient).map((c) => c.contextId);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const reject = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!SOCKET_PATH.test(url.pathname)) return reject(404, 'Not Found');
    if (this.faults.refuseUpgrade) return reject(503, 'Service Unavailable');
    if (req.headers['xi-api-key'] !== this.apiKey) return reject(401, 'Unauthorized');
    if (url.searchParams.get('output_format') !== 'ulaw_8000') return reject(400, 'Bad Request');
    this.socketQueries.push(url.searchParams);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, ++this.connections));
  }

  private onSocket(ws: WebSocket, connection: number): void {
    this.openSockets++;
    const live = new Map<string, LiveContext>();
    let audioSent = 0;
    ws.on('close', () => {
      this.openSockets--;
      for (const context of live.values()) context.dead = true;
    });
    const send = (message: object) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(message));
    const finish = (context: LiveContext) => {
      if (context.dead) return;
      context.dead = true;
      live.delete(context.record.contextId);
      send({ isFinal: true, contextId: context.record.contextId });
      context.record.finalSent = true;
    };
    const pump = async (context: LiveContext) => {
      if (context.running || this.faults.stallSocket) return;
      context.running = true;
      while (context.jobs.length > 0) {
        const text = context.jobs.shift()!;
        for (const [index, chunk] of this.chunksFor(text).entries()) {
          await this.sleep(index === 0 ? this.latency.firstByteMs : this.latency.perChunkMs);
          if (context.dead || ws.readyState !== WebSocket.OPEN) return;
          send({ audio: Buffer.from(chunk.audio).toString('base64'), alignment: chunk.alignment, normalizedAlignment: chunk.alignment, contextId: context.record.contextId });
          context.record.audioMessages++;
          if (++audioSent === this.faults.dropSocketAfterChunks) return void ws.terminate();
        }
      }
      context.running = false;
      if (context.closing) finish(context);
    };

    ws.on('message', (data) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        return void ws.close(1003, 'invalid JSON');
      }
      if (message.close_socket === true) {
        for (const context of live.values()) context.closing = true;
        return void ws.close(1000, 'close_socket');
      }
      const contextId = typeof message.context_id === 'string' ? message.context_id : 'default';
      let context = live.get(contextId);
      if (!context) {
        if (message.close_context === true) return; // closing an unknown or finished context is a no-op
        if (live.size >= 5) {
          send({ message: 'Maximum simultaneous contexts per WebSocket connection exceeded (5).', error: 'max_active_conversations', code: 1008 });
          return void ws.close(1008, 'too many contexts');
        }
        const record: FakeContextRecord = { connection, contextId, texts: [], flushes: 0, keepAlives: 0, closedByClient: false, finalSent: false, audioMessages: 0 };
        this.contexts.push(record);
        context = { record, buffer: '', jobs: [], running: false, closing: false, dead: false };
        live.set(contextId, context);
      }
      const ctx = context;
      if (typeof message.text === 'string') {
        if (message.text === '') ctx.record.keepAlives++;
        else if (message.text !== ' ') ctx.record.texts.push(message.text);
        ctx.buffer += message.text;
      }
      if (message.flush === true) {
        ctx.record.flushes++;
        if (ctx.buffer.trim()) ctx.jobs.push(ctx.buffer);
        ctx.buffer = '';
        void pump(ctx);
      }
      if (message.close_context === true) {
        ctx.record.closedByClient = true;
        ctx.closing = true;
        ctx.buffer = '';
        if (!ctx.running && !this.faults.stallSocket) finish(ctx);
      }
    });
  }

  private onHttp(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = HTTP_PATH.exec(url.pathname);
    if (req.method !== 'POST' || !match) return void res.writeHead(404).end();
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (part: string) => (raw += part));
    req.on('end', () => void this.answerHttp(req, res, decodeURIComponent(match[1]!), url, raw));
  }

  private async answerHttp(req: IncomingMessage, res: ServerResponse, voiceId: string, url: URL, raw: string): Promise<void> {
    if (req.headers['xi-api-key'] !== this.apiKey) {
      return void res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: { status: 'invalid_api_key', message: 'Invalid API key' } }));
    }
    let body: { text?: unknown; model_id?: unknown };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return void res.writeHead(400).end();
    }
    const text = typeof body.text === 'string' ? body.text : '';
    this.httpRequests.push({ voiceId, text, modelId: body.model_id, outputFormat: url.searchParams.get('output_format') });
    if (this.faults.httpStatus !== null) {
      return void res.writeHead(this.faults.httpStatus, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: 'fake fault' }));
    }
    res.writeHead(200, { 'content-type': 'audio/basic' });
    if (this.faults.stallHttp) return res.flushHeaders();
    for (const [index, chunk] of this.chunksFor(text).entries()) {
      await this.sleep(index === 0 ? this.latency.firstByteMs : this.latency.perChunkMs);
      if (res.destroyed || this.stopped) return;
      res.write(chunk.audio);
    }
    res.end();
  }

  /** The text's audio in `chunkMs` chunks, each with the characters that start inside it. */
  private chunksFor(text: string): { audio: Uint8Array; alignment: { chars: string[]; charStartTimesMs: number[]; charDurationsMs: number[] } }[] {
    const totalMs = words(text) * this.msPerWord;
    const chars = [...text];
    const perChar = totalMs / Math.max(1, chars.length);
    const chunks = [];
    for (let startMs = 0; startMs < totalMs; startMs += this.chunkMs) {
      const endMs = Math.min(totalMs, startMs + this.chunkMs);
      const audio = new Uint8Array((endMs - startMs) * 8);
      for (let i = 0; i < audio.length; i++) audio[i] = 0x10 + ((startMs * 8 + i) % 0x60);
      const inChunk = chars.map((char, i) => ({ char, at: i * perChar })).filter(({ at }) => at >= startMs && (at < endMs || endMs === totalMs));
      chunks.push({
        audio,
        alignment: {
          chars: inChunk.map((c) => c.char),
          charStartTimesMs: inChunk.map((c) => Math.round(c.at - startMs)),
          charDurationsMs: inChunk.map(() => Math.round(perChar)),
        },
      });
    }
    return chunks;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

function words(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}
