/**
 * ElevenLabs streaming text-to-speech, μ-law 8 kHz out (Twilio's format: no transcoding).
 *
 * Primary transport: one multi-context WebSocket per adapter (one adapter per call), opened when
 * the first piece needs it, one context per turn. Every piece is sent with `flush` as it arrives,
 * so a short first sentence renders at once instead of waiting for the server's 120-character
 * buffer; the turn ends with flush + close_context and finishes at the context's isFinal. Audio is
 * attributed to pieces by the per-character alignment the socket sends (see piece-alignment.ts).
 *
 * Fallback transport: the HTTP stream endpoint per piece, when the socket cannot connect, drops or
 * stalls mid-turn (the turn continues on HTTP from the word being spoken). `onFallback` reports it
 * (stage `tts`, from `elevenlabs-ws` to `elevenlabs-http`, the reason one of ElevenLabsFallbackReason).
 * If HTTP fails too, the turn throws `ElevenLabsTtsError` (kind 'unavailable').
 */
import type { FallbackListener } from '../observability/fallback.js';
import { AsyncQueue } from '../util/async-queue.js';
import { ElevenLabsHttpStream, ElevenLabsTtsError, describeError, elevenLabsEndpoints } from './elevenlabs-http.js';
import { MultiContextSocket, type ContextEvent } from './elevenlabs-socket.js';
import { sliceByAlignment, unrenderedText, visibleLength, type PieceProgress } from './piece-alignment.js';
import type { TextToSpeech, TtsChunk, TtsStreamOptions } from './tts.js';

export { ElevenLabsTtsError } from './elevenlabs-http.js';

export interface TtsLogger {
  warn(details: object, message: string): void;
  debug?(details: object, message: string): void;
}

export type ElevenLabsFallbackReason = 'connect-failed' | 'socket-unavailable' | 'socket-lost' | 'stalled';

export interface ElevenLabsTtsOptions {
  apiKey: string;
  voiceId: string;
  /** ELEVENLABS_BASE_URL (http, https, ws or wss; with or without /v1). Default https://api.elevenlabs.io. */
  baseUrl?: string;
  modelId?: string;
  connectTimeoutMs?: number;
  /** From sending text until its first audio (socket) or first byte (HTTP). */
  firstAudioTimeoutMs?: number;
  /** Longest gap between audio messages while audio is still owed. */
  idleTimeoutMs?: number;
  /** After a socket failure, turns go straight to HTTP for this long instead of paying a failed connect each turn. */
  socketRetryDelayMs?: number;
  /** A context waiting for the brain (e.g. during a tool call) is kept alive this often. */
  keepAliveIntervalMs?: number;
  /** Share one across calls with the same voice so fixed prompts are rendered once per process. */
  promptCache?: Map<string, readonly Uint8Array[]>;
  logger?: TtsLogger;
  onFallback?: FallbackListener;
}

/** The socket URL's maximum: a caller thinking for a while must not cost a reconnect. */
const INACTIVITY_TIMEOUT_S = 180;
const CONTEXT_SLOT_WAIT_MS = 1_000;

class SocketUnavailable extends Error {
  constructor(
    readonly reason: ElevenLabsFallbackReason,
    detail: string,
  ) {
    super(detail);
  }
}

interface TurnPiece extends PieceProgress {
  route: 'socket' | 'cache' | 'http';
  sent: boolean;
  cached?: readonly Uint8Array[];
  /** What HTTP still has to render after a socket failure mid-piece. */
  remainder?: string;
}

type TurnEvent =
  | { type: 'piece'; text: string }
  | { type: 'input-end' }
  | { type: 'input-failed'; error: unknown }
  | { type: 'socket-ready'; socket: MultiContextSocket }
  | { type: 'socket-failed'; reason: ElevenLabsFallbackReason; detail: string }
  | { type: 'context'; event: ContextEvent }
  | { type: 'stall' }
  | { type: 'abort' };

export class ElevenLabsTts implements TextToSpeech {
  readonly name: string;
  private readonly http: ElevenLabsHttpStream;
  private readonly socketUrl: string;
  private readonly modelId: string;
  private readonly cache: Map<string, readonly Uint8Array[]>;
  private readonly timing: { connect: number; firstAudio: number; idle: number; retry: number; keepAlive: number };
  /** Every running turn and warm-up, so close() can stop them. */
  private readonly running = new Set<AbortController>();
  private socket: MultiContextSocket | null = null;
  private socketRetryAt = 0;
  private contextCount = 0;
  private closed = false;

  constructor(private readonly options: ElevenLabsTtsOptions) {
    this.modelId = options.modelId ?? 'eleven_flash_v2_5';
    this.name = `elevenlabs:${this.modelId}`;
    const { httpBase, wsBase } = elevenLabsEndpoints(options.baseUrl ?? 'https://api.elevenlabs.io');
    const query = new URLSearchParams({
      model_id: this.modelId,
      output_format: 'ulaw_8000',
      inactivity_timeout: String(INACTIVITY_TIMEOUT_S),
      // Alignment in the same message as its audio: needed to cut audio at piece boundaries.
      sync_alignment: 'true',
    });
    this.socketUrl = `${wsBase}/v1/text-to-speech/${encodeURIComponent(options.voiceId)}/multi-stream-input?${query}`;
    this.cache = options.promptCache ?? new Map();
    this.timing = {
      connect: options.connectTimeoutMs ?? 3_000,
      firstAudio: options.firstAudioTimeoutMs ?? 4_000,
      idle: options.idleTimeoutMs ?? 4_000,
      retry: options.socketRetryDelayMs ?? 20_000,
      keepAlive: options.keepAliveIntervalMs ?? 15_000,
    };
    const { apiKey, voiceId } = options;
    const { firstAudio: firstByteTimeoutMs, idle: idleTimeoutMs } = this.timing;
    this.http = new ElevenLabsHttpStream({ apiKey, voiceId, modelId: this.modelId, httpBase, firstByteTimeoutMs, idleTimeoutMs });
  }

  stream(options: TtsStreamOptions): AsyncIterable<TtsChunk> {
    return this.runTurn(options.text, options.signal);
  }

  /** Renders fixed prompts over HTTP once; stream() then serves exactly these texts from memory. */
  async warm(texts: readonly string[], signal?: AbortSignal): Promise<void> {
    const control = this.track(signal);
    const failed: string[] = [];
    try {
      for (const text of new Set(texts)) {
        if (control.signal.aborted) return;
        if (this.cache.has(text) || visibleLength(text) === 0) continue;
        const chunks: Uint8Array[] = [];
        try {
          for await (const chunk of this.http.render(text, text, control.signal)) chunks.push(chunk.audio);
        } catch (error) {
          failed.push(text);
          this.options.logger?.warn({ err: error, text }, 'elevenlabs: could not pre-render a prompt');
          continue;
        }
        if (!control.signal.aborted) this.cache.set(text, chunks);
      }
    } finally {
      this.running.delete(control);
    }
    if (failed.length > 0) throw new ElevenLabsTtsError(`could not pre-render ${failed.length} prompt(s)`, 'unavailable');
  }

  /** Ends the call's use of ElevenLabs: running turns stop, the socket closes, no timer survives. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const control of this.running) control.abort();
    const socket = this.socket;
    this.socket = null;
    await socket?.close();
  }

  private track(signal?: AbortSignal): AbortController {
    const control = new AbortController();
    if (signal?.aborted || this.closed) control.abort();
    signal?.addEventListener('abort', () => control.abort(), { once: true });
    this.running.add(control);
    return control;
  }

  private async *runTurn(input: AsyncIterable<string>, outer: AbortSignal): AsyncGenerator<TtsChunk> {
    if (this.closed) throw new ElevenLabsTtsError('the ElevenLabs adapter is closed', 'closed');
    const control = this.track(outer);
    const signal = control.signal;
    const events = new AsyncQueue<TurnEvent>();
    const pieces: TurnPiece[] = [];
    let cursor = 0; // pieces before it are fully yielded
    let mode: 'idle' | 'connecting' | 'socket' | 'http' = 'idle';
    const currentMode = () => mode; // read through a call: TS does not see the closures that change it
    let socket: MultiContextSocket | null = null;
    let contextId: string | null = null;
    let inputEnded = false;
    let endSent = false;
    let finalSeen = false;
    let heardAudio = false;
    let sentSinceAudio = false;
    let watchdog: NodeJS.Timeout | null = null;
    let keepAlive: NodeJS.Timeout | null = null;

    const stopTimers = () => {
      if (watchdog) clearTimeout(watchdog);
      if (keepAlive) clearInterval(keepAlive);
      watchdog = keepAlive = null;
    };
    // Barge-in: close the context now, not when the consumer next pulls.
    const onAbort = () => {
      if (socket && contextId && !finalSeen) socket.cancelContext(contextId);
      contextId = null;
      events.push({ type: 'abort' });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    void pumpPieces(input, events, signal);

    // Armed only while audio is owed for text sent since the last audio, or for the end of the turn:
    // a piece whose aligned characters fall short of our count must not look like a stall.
    const armWatchdog = (restart: boolean) => {
      const owed = mode === 'socket' && !finalSeen && (sentSinceAudio || endSent);
      if (!owed || restart) {
        if (watchdog) clearTimeout(watchdog);
        watchdog = null;
      }
      if (owed && !watchdog) {
        watchdog = setTimeout(() => events.push({ type: 'stall' }), heardAudio ? this.timing.idle : this.timing.firstAudio);
      }
    };
    const sendPiece = (piece: TurnPiece) => {
      if (!socket || !contextId) return;
      socket.sendText(contextId, piece.text, true);
      piece.sent = sentSinceAudio = true;
    };
    const sendEnd = () => {
      if (!socket || !contextId || endSent) return;
      socket.endContext(contextId);
      endSent = true;
    };
    const switchToHttp = (reason: ElevenLabsFallbackReason, detail: string) => {
      this.reportFallback(reason, detail);
      if (socket && contextId && !finalSeen) socket.cancelContext(contextId);
      contextId = null;
      stopTimers();
      mode = 'http';
      for (const piece of pieces.slice(cursor)) {
        if (piece.route !== 'socket') continue;
        piece.route = 'http';
        piece.remainder = unrenderedText(piece);
      }
    };
    // A socket piece is done when its context ended, or when its characters are all heard and the
    // next socket piece has begun (so a cached piece between them plays in the right place).
    const socketPieceDone = (index: number) => {
      if (finalSeen) return true;
      const piece = pieces[index]!;
      if (piece.rendered < piece.weight) return false;
      const next = pieces.slice(index + 1).find((p) => p.route === 'socket');
      return next !== undefined && next.rendered > 0;
    };
    const self = this;
    async function* drain(stopAt?: TurnPiece): AsyncGenerator<TtsChunk> {
      while (cursor < pieces.length && !signal.aborted) {
        const piece = pieces[cursor]!;
        if (piece === stopAt) return;
        if (piece.route === 'cache') {
          for (const audio of piece.cached ?? []) yield { audio: audio.slice(), text: piece.text };
        } else if (piece.route === 'http') {
          yield* self.http.render(piece.remainder ?? piece.text, piece.text, signal);
        } else if (!socketPieceDone(cursor)) {
          return;
        }
        cursor++;
      }
    }

    try {
      for await (const event of events) {
        if (signal.aborted || event.type === 'abort') return;
        switch (event.type) {
          case 'piece': {
            const weight = visibleLength(event.text);
            if (weight === 0) break;
            const cached = this.cache.get(event.text);
            const route = cached ? 'cache' : currentMode() === 'http' ? 'http' : 'socket';
            const piece: TurnPiece = { text: event.text, weight, rendered: 0, route, sent: false, ...(cached ? { cached } : {}) };
            pieces.push(piece);
            if (route === 'socket' && mode === 'socket') sendPiece(piece);
            if (route === 'socket' && mode === 'idle') {
              mode = 'connecting';
              this.acquireSocket().then(
                (ready) => events.push({ type: 'socket-ready', socket: ready }),
                (error: unknown) =>
                  error instanceof SocketUnavailable
                    ? events.push({ type: 'socket-failed', reason: error.reason, detail: error.message })
                    : events.push({ type: 'socket-failed', reason: 'connect-failed', detail: describeError(error) }),
              );
            }
            break;
          }
          case 'input-end':
            inputEnded = true;
            if (mode === 'socket') sendEnd();
            break;
          case 'input-failed':
            throw event.error;
          case 'socket-ready': {
            if (mode !== 'connecting') break;
            socket = event.socket;
            contextId = `turn-${++this.contextCount}`;
            const id = contextId;
            socket.openContext(id, (contextEvent) => events.push({ type: 'context', event: contextEvent }));
            if (socket.isGone) {
              switchToHttp('socket-lost', 'socket closed while opening the context');
              break;
            }
            mode = 'socket';
            for (const piece of pieces) if (piece.route === 'socket' && !piece.sent) sendPiece(piece);
            if (inputEnded) sendEnd();
            const owner = socket;
            keepAlive = setInterval(() => !endSent && owner.keepAlive(id), this.timing.keepAlive);
            break;
          }
          case 'socket-failed':
            switchToHttp(event.reason, event.detail);
            break;
          case 'context': {
            const e = event.event;
            if (e.type === 'audio') {
              heardAudio = true;
              sentSinceAudio = false;
              const open = pieces.slice(cursor).filter((p) => p.route === 'socket');
              for (const slice of sliceByAlignment(e.audio, e.alignment, open)) {
                yield* drain(slice.piece);
                if (signal.aborted) return;
                yield { audio: slice.audio, text: slice.piece.text };
              }
              armWatchdog(true);
            } else if (e.type === 'final') {
              finalSeen = true;
              stopTimers();
              // The server ended the context before we did (e.g. its inactivity timeout): carry on over HTTP.
              if (!endSent) switchToHttp('socket-lost', 'context closed by the server mid-turn');
            } else if (!finalSeen) {
              if (this.closed) return;
              this.noteSocketFailure(socket);
              switchToHttp('socket-lost', e.reason);
            }
            break;
          }
          case 'stall':
            if (mode !== 'socket') break;
            this.noteSocketFailure(socket);
            switchToHttp('stalled', `no audio from the socket for ${heardAudio ? this.timing.idle : this.timing.firstAudio} ms`);
            socket?.terminate('stalled');
            break;
        }
        yield* drain();
        armWatchdog(false);
        const awaitingSocket = mode === 'connecting' || (mode === 'socket' && !finalSeen);
        if (inputEnded && cursor >= pieces.length && !awaitingSocket) return;
      }
    } finally {
      stopTimers();
      signal.removeEventListener('abort', onAbort);
      if (socket && contextId && !finalSeen) socket.cancelContext(contextId);
      events.end();
      control.abort(); // stops the input pump if the consumer left early
      this.running.delete(control);
    }
  }

  private async acquireSocket(): Promise<MultiContextSocket> {
    if (this.closed) throw new SocketUnavailable('socket-unavailable', 'adapter closed');
    if (!this.socket && Date.now() < this.socketRetryAt) {
      throw new SocketUnavailable('socket-unavailable', 'socket failed recently; using HTTP until the retry delay passes');
    }
    const socket = this.socket ?? this.openSocket();
    try {
      await socket.ready;
    } catch (error) {
      this.noteSocketFailure(socket);
      throw new SocketUnavailable('connect-failed', describeError(error));
    }
    if (!(await socket.waitForSlot(CONTEXT_SLOT_WAIT_MS))) {
      // Cancelled contexts the server never confirmed still count against its cap of 5: a fresh socket clears them.
      this.options.logger?.warn({ live: socket.liveContexts }, 'elevenlabs: context limit reached; opening a fresh socket');
      if (this.socket === socket) this.socket = null;
      void socket.close();
      return this.acquireSocket();
    }
    if (this.closed || socket.isGone) throw new SocketUnavailable('socket-unavailable', 'socket closed while connecting');
    return socket;
  }

  private openSocket(): MultiContextSocket {
    const socket: MultiContextSocket = new MultiContextSocket(this.socketUrl, this.options.apiKey, this.timing.connect, (reason) => {
      // An idle socket closed by the server between turns is normal: the next turn reconnects.
      if (this.socket === socket) this.socket = null;
      this.options.logger?.debug?.({ reason }, 'elevenlabs: socket closed');
    });
    this.socket = socket;
    return socket;
  }

  private noteSocketFailure(socket: MultiContextSocket | null): void {
    if (socket && this.socket === socket) this.socket = null;
    this.socketRetryAt = Date.now() + this.timing.retry;
  }

  private reportFallback(reason: ElevenLabsFallbackReason, detail: string): void {
    this.options.logger?.warn({ reason, detail }, 'elevenlabs: socket unavailable, continuing over HTTP');
    this.options.onFallback?.({ stage: 'tts', from: 'elevenlabs-ws', to: 'elevenlabs-http', reason });
  }
}

async function pumpPieces(input: AsyncIterable<string>, events: AsyncQueue<TurnEvent>, signal: AbortSignal): Promise<void> {
  try {
    for await (const text of input) {
      if (signal.aborted) break;
      events.push({ type: 'piece', text });
    }
    events.push({ type: 'input-end' });
  } catch (error) {
    events.push({ type: 'input-failed', error });
  }
}
