/**
 * A local stand-in for Deepgram's live transcription endpoint (`GET /v1/listen` upgraded to a
 * WebSocket, `Authorization: Token <key>`), close enough to the real service that the official SDK
 * talks to it unchanged (`baseUrl: fake.url`).
 *
 * Results follow the audio, not the clock: each 20 ms μ-law frame is classed as speech or silence by
 * its energy, and the fake answers like the service would — `SpeechStarted` at onset, interim
 * `Results` while speech continues, `is_final` + `speech_final` after `endpointing` ms of silence,
 * `UtteranceEnd` after `utterance_end_ms` without words, an immediate flush (`from_finalize: true`)
 * on `Finalize`, and `Metadata` then close on `CloseStream`. What the words are comes from a script
 * (the transcript sidecar): utterance N of the call is the Nth speech segment finalised, so a
 * connection that replaces a dropped one re-transcribes the unfinished utterance from replayed audio.
 *
 * Faults and latency are set per connection attempt (refuse, HTTP status on upgrade, drop after N
 * audio bytes, stall) and everything received is recorded for assertions.
 */
import { readFileSync } from 'node:fs';
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { decodeMulaw } from '../../src/media/mulaw.js';

export interface FakeUtterance {
  /** The final transcript of this speech segment. */
  text: string;
  /** Interim transcripts shown while it is spoken; default: growing prefixes of `text`. */
  interims?: string[];
  confidence?: number;
}

/** The transcript of a fixture, kept next to its audio (a JSON file or the object itself). */
export interface FakeTranscriptSidecar {
  utterances: FakeUtterance[];
}

export interface FakeConnectionBehavior {
  /** How the upgrade is answered: accept (default), drop the TCP connection, or this HTTP status. */
  upgrade?: 'accept' | 'refuse' | number;
  /** Terminate the socket (no close frame) once this many audio bytes have arrived. */
  dropAfterBytes?: number;
  /** Accept and record, but never answer anything. */
  stall?: boolean;
  /** Processing latency before every Results/UtteranceEnd message, ms. */
  resultLatencyMs?: number;
  /** Latency of the answer to Finalize, ms. */
  finalizeLatencyMs?: number;
}

export interface FakeDeepgramOptions {
  apiKey: string;
  transcript?: FakeTranscriptSidecar | string;
  /** Behaviour of connection attempt N (0-based); later attempts use `defaultBehavior`. */
  connections?: FakeConnectionBehavior[];
  defaultBehavior?: FakeConnectionBehavior;
  /** Speech between interim results, ms. */
  interimEveryMs?: number;
  /** Like the service, close a socket that gets no audio and no message for this long (code 1011). */
  idleTimeoutMs?: number;
  /** Mean |sample| of a 20 ms frame above which it counts as speech. */
  speechThreshold?: number;
}

export interface FakeConnectionRecord {
  index: number;
  query: URLSearchParams;
  authorization: string | undefined;
  /** HTTP status of the upgrade answer (101 when accepted), or 'refused'. */
  outcome: number | 'refused';
  audio: Buffer[];
  audioBytes: number;
  /** Types of the JSON control messages received, in order (KeepAlive, Finalize, CloseStream). */
  control: string[];
  /** Audio bytes received before each control message (same order as `control`). */
  audioBytesAtControl: number[];
  /** Messages sent to the client, in order. */
  sent: Record<string, unknown>[];
  open: boolean;
  closeCode: number | null;
}

const FRAME_BYTES = 160; // 20 ms of μ-law at 8 kHz
const FRAME_S = 0.02;

export class FakeDeepgram {
  readonly connections: FakeConnectionRecord[] = [];
  private readonly utterances: FakeUtterance[];
  /** Utterances finalised so far across all connections of this call. */
  utteranceCursor = 0;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Set<ListenSession>();

  private constructor(
    private readonly server: Server,
    readonly options: FakeDeepgramOptions,
    readonly url: string,
  ) {
    const transcript = options.transcript;
    this.utterances = (typeof transcript === 'string' ? (JSON.parse(readFileSync(transcript, 'utf8')) as FakeTranscriptSidecar) : transcript)?.utterances ?? [];
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket as Socket, head));
  }

  static async start(options: FakeDeepgramOptions): Promise<FakeDeepgram> {
    const server = createServer((_req, res) => res.writeHead(405).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new FakeDeepgram(server, options, `ws://127.0.0.1:${port}`);
  }

  get openConnections(): number {
    return this.connections.filter((c) => c.open).length;
  }

  /** Sent messages of every connection, flattened in connection order. */
  sentMessages(type?: string): Record<string, unknown>[] {
    return this.connections.flatMap((c) => c.sent).filter((m) => type === undefined || m.type === type);
  }

  utteranceAt(index: number): FakeUtterance | undefined {
    return this.utterances[index];
  }

  async close(): Promise<void> {
    for (const session of this.sessions) session.destroy();
    for (const socket of this.sockets) socket.destroy();
    this.wss.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const index = this.connections.length;
    const behavior = this.options.connections?.[index] ?? this.options.defaultBehavior ?? {};
    const url = new URL(req.url ?? '/', 'http://fake');
    const record: FakeConnectionRecord = {
      index,
      query: url.searchParams,
      authorization: req.headers.authorization,
      outcome: 101,
      audio: [],
      audioBytes: 0,
      control: [],
      audioBytesAtControl: [],
      sent: [],
      open: false,
      closeCode: null,
    };
    this.connections.push(record);
    const reject = (status: number, errCode: string, message: string) => {
      record.outcome = status;
      const body = JSON.stringify({ err_code: errCode, err_msg: message, request_id: `fake-${index}` });
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
          `dg-error: ${message}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    if (behavior.upgrade === 'refuse') {
      record.outcome = 'refused';
      socket.destroy();
      return;
    }
    if (url.pathname !== '/v1/listen') return reject(404, 'NOT_FOUND', 'Unknown path.');
    if (req.headers.authorization !== `Token ${this.options.apiKey}`) return reject(401, 'INVALID_AUTH', 'Invalid credentials.');
    if (typeof behavior.upgrade === 'number') return reject(behavior.upgrade, 'FAKE_FAULT', 'Injected upgrade failure.');
    // This fake only understands what Twilio sends: μ-law, 8 kHz, mono.
    const q = url.searchParams;
    if (!q.get('model') || q.get('encoding') !== 'mulaw' || q.get('sample_rate') !== '8000' || (q.get('channels') ?? '1') !== '1') {
      return reject(400, 'INVALID_QUERY_PARAMETER', 'Unsupported model or audio format.');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      record.open = true;
      const session = new ListenSession(ws, record, behavior, this);
      this.sessions.add(session);
      ws.on('close', (code) => {
        record.open = false;
        record.closeCode = code;
        session.destroy();
        this.sessions.delete(session);
      });
    });
  }
}

/** One accepted `/v1/listen` socket: classifies the audio and answers as the service would. */
class ListenSession {
  private readonly endpointingMs: number | null;
  private readonly utteranceEndMs: number | null;
  private readonly interims: boolean;
  private readonly vadEvents: boolean;
  private readonly timers = new Set<NodeJS.Timeout>();
  private idleTimer: NodeJS.Timeout | null = null;
  private lastDueAt = 0;
  private pending = Buffer.alloc(0);
  private framesSeen = 0;
  // Speech state, in audio time (seconds since this socket's first byte).
  private inSpeech = false;
  private awaitSilence = false;
  private speechMs = 0;
  private silenceMs = 0;
  private heardSinceFinal = false;
  private windowStart = 0;
  private lastSpeechEnd = 0;
  private interimCount = 0;
  private utteranceEndDue = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly record: FakeConnectionRecord,
    private readonly behavior: FakeConnectionBehavior,
    private readonly fake: FakeDeepgram,
  ) {
    const q = record.query;
    const endpointing = q.get('endpointing');
    this.endpointingMs = endpointing === 'false' ? null : Number(endpointing ?? 10); // the service defaults to 10 ms
    this.utteranceEndMs = q.has('utterance_end_ms') ? Number(q.get('utterance_end_ms')) : null;
    this.interims = q.get('interim_results') === 'true';
    this.vadEvents = q.get('vad_events') === 'true';
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.touch();
  }

  destroy(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.terminate();
  }

  private get now(): number {
    return this.framesSeen * FRAME_S;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.touch();
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!isBinary) return this.onControl(bytes.toString('utf8'));
    const drop = this.behavior.dropAfterBytes;
    if (drop !== undefined && this.record.audioBytes + bytes.length > drop) {
      this.ws.terminate(); // abrupt: the client sees 1006, as on a network failure
      return;
    }
    this.record.audio.push(bytes);
    this.record.audioBytes += bytes.length;
    if (this.behavior.stall) return;
    this.pending = Buffer.concat([this.pending, bytes]);
    while (this.pending.length >= FRAME_BYTES) {
      this.onFrame(this.pending.subarray(0, FRAME_BYTES));
      this.pending = this.pending.subarray(FRAME_BYTES);
    }
  }

  private onControl(text: string): void {
    let type = 'invalid';
    try {
      type = String((JSON.parse(text) as { type?: unknown }).type);
    } catch {
      // recorded as invalid below
    }
    this.record.control.push(type);
    this.record.audioBytesAtControl.push(this.record.audioBytes);
    if (this.behavior.stall) return;
    if (type === 'Finalize') {
      this.flush(this.behavior.finalizeLatencyMs ?? 0);
    } else if (type === 'CloseStream') {
      this.flush(0);
      this.send({ type: 'Metadata', transaction_key: 'deprecated', request_id: `fake-${this.record.index}`, sha256: '0'.repeat(64), created: new Date().toISOString(), duration: this.now, channels: 1 }, 0, () => this.ws.close(1000));
    }
  }

  private onFrame(frame: Buffer): void {
    this.framesSeen++;
    const pcm = decodeMulaw(frame);
    let sum = 0;
    for (const sample of pcm) sum += Math.abs(sample);
    const speech = sum / pcm.length > (this.fake.options.speechThreshold ?? 1000);
    if (speech) this.onSpeechFrame();
    else this.onSilenceFrame();
  }

  private onSpeechFrame(): void {
    if (this.awaitSilence) return; // flushed mid-word: the rest of this word is not a new utterance
    if (!this.inSpeech) {
      this.inSpeech = true;
      this.speechMs = 0;
      this.interimCount = 0;
      this.utteranceEndDue = false;
      if (this.vadEvents) this.send({ type: 'SpeechStarted', channel: [0], timestamp: round(this.now - FRAME_S) }, 0);
    }
    this.heardSinceFinal = true;
    this.speechMs += 20;
    this.silenceMs = 0;
    this.lastSpeechEnd = this.now;
    const every = this.fake.options.interimEveryMs ?? 200;
    if (this.interims && this.speechMs >= (this.interimCount + 1) * every) {
      const text = this.interimText(this.interimCount++);
      this.send(this.results(text, { isFinal: false }), this.behavior.resultLatencyMs ?? 0);
    }
  }

  private onSilenceFrame(): void {
    this.awaitSilence = false;
    if (this.inSpeech) {
      this.silenceMs += 20;
      if (this.endpointingMs !== null && this.silenceMs >= this.endpointingMs) this.finalise({ speechFinal: true }, this.behavior.resultLatencyMs ?? 0);
      return;
    }
    if (this.utteranceEndDue && this.utteranceEndMs !== null && (this.now - this.lastSpeechEnd) * 1000 >= this.utteranceEndMs) {
      this.utteranceEndDue = false;
      this.send({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: round(this.lastSpeechEnd) }, this.behavior.resultLatencyMs ?? 0);
    }
  }

  /** Finalize / CloseStream: whatever was heard since the last final comes out now. */
  private flush(latencyMs: number): void {
    if (this.heardSinceFinal) {
      this.awaitSilence = this.inSpeech;
      this.finalise({ fromFinalize: true }, latencyMs);
    } else {
      this.send(this.results('', { isFinal: true, fromFinalize: true }), latencyMs);
      this.windowStart = this.now;
    }
  }

  private finalise(kind: { speechFinal?: boolean; fromFinalize?: boolean }, latencyMs: number): void {
    const utterance = this.fake.utteranceAt(this.fake.utteranceCursor);
    const text = this.heardSinceFinal ? (utterance?.text ?? '') : '';
    this.send(this.results(text, { isFinal: true, ...kind }, utterance?.confidence), latencyMs);
    if (text) {
      this.fake.utteranceCursor++;
      this.utteranceEndDue = true;
    }
    this.windowStart = this.now;
    this.inSpeech = false;
    this.heardSinceFinal = false;
  }

  private interimText(step: number): string {
    const utterance = this.fake.utteranceAt(this.fake.utteranceCursor);
    if (!utterance) return '';
    if (utterance.interims) return utterance.interims[Math.min(step, utterance.interims.length - 1)] ?? '';
    const words = utterance.text.split(/\s+/);
    return words.slice(0, Math.min(step + 1, words.length)).join(' ');
  }

  private results(transcript: string, flags: { isFinal: boolean; speechFinal?: boolean; fromFinalize?: boolean }, confidence = 0.95): Record<string, unknown> {
    const start = this.windowStart;
    const duration = round(this.now - start);
    const words = transcript.split(/\s+/).filter(Boolean);
    const step = words.length > 0 ? duration / words.length : 0;
    return {
      type: 'Results',
      channel_index: [0, 1],
      duration,
      start: round(start),
      is_final: flags.isFinal,
      speech_final: flags.speechFinal ?? false,
      from_finalize: flags.fromFinalize ?? false,
      channel: {
        alternatives: [
          {
            transcript,
            confidence,
            words: words.map((word, i) => ({ word: word.toLowerCase().replace(/[^\p{L}\p{N}']/gu, ''), start: round(start + i * step), end: round(start + (i + 1) * step), confidence, punctuated_word: word })),
          },
        ],
      },
      metadata: { request_id: `fake-${this.record.index}`, model_info: { name: 'general-nova-3', version: 'fake', arch: 'nova-3' }, model_uuid: 'fake' },
    };
  }

  /** Sends in order: a message never overtakes one queued before it, whatever its latency. */
  private send(message: Record<string, unknown>, latencyMs: number, after?: () => void): void {
    const dueAt = Math.max(Date.now() + latencyMs, this.lastDueAt);
    this.lastDueAt = dueAt;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.ws.readyState !== this.ws.OPEN) return;
      this.record.sent.push(message);
      this.ws.send(JSON.stringify(message));
      after?.();
    }, dueAt - Date.now());
    this.timers.add(timer);
  }

  /** The service closes a socket that hears nothing (no audio, no KeepAlive) for ~10 s. */
  private touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      this.ws.close(1011, 'NET-0001: no audio or KeepAlive received within the timeout window');
    }, this.fake.options.idleTimeoutMs ?? 10_000);
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
