/**
 * ElevenLabs streaming text-to-speech, μ-law 8 kHz out (Twilio's format: no transcoding).
 *
 * Primary transport: one multi-context WebSocket per adapter (one adapter per call), opened when
 * the first piece needs it, one context per turn. Every piece is sent with `flush` as it arrives,
 * so a short first sentence renders at once instead of waiting for the server's 120-character
 * buffer; the turn ends with flush + close_context and finishes at the context's isFinal. Audio is
 * attributed to pieces by the per-character alignment the socket sends (see piece-alignment.ts).
 *
 * Each reply is the pure state machine in elevenlabs-synthesis.ts; this class is its executor
 * (socket, timers, HTTP, the prompt cache).
 *
 * Fallback transport: the HTTP stream endpoint per piece, when the socket cannot connect, drops or
 * stalls mid-turn (the turn continues on HTTP from the word being spoken). `onFallback` reports it
 * (stage `tts`, from `elevenlabs-ws` to `elevenlabs-http`, the reason one of ElevenLabsFallbackReason).
 * If HTTP fails too, the turn throws `ElevenLabsTtsError` (kind 'unavailable').
 */
import type { FallbackListener } from '../observability/fallback.js';
import { AsyncQueue } from '../util/async-queue.js';
import { ElevenLabsHttpStream, ElevenLabsTtsError, describeError, elevenLabsEndpoints } from './elevenlabs-http.js';
import { MultiContextSocket } from './elevenlabs-socket.js';
import { visibleLength } from './piece-alignment.js';
import {
  INITIAL_SYNTHESIS,
  reduceSynthesis,
  type ElevenLabsFallbackReason,
  type SynthesisCommand,
  type SynthesisEvent,
  type SynthesisState,
} from './elevenlabs-synthesis.js';
import type { TextToSpeech, TtsChunk, TtsStreamOptions } from './tts.js';

export { ElevenLabsTtsError } from './elevenlabs-http.js';

export interface TtsLogger {
  warn(details: object, message: string): void;
  debug?(details: object, message: string): void;
}

export type { ElevenLabsFallbackReason } from './elevenlabs-synthesis.js';

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

  /** The executor of one reply: events in, `reduceSynthesis` decides, commands run here. */
  private async *runTurn(input: AsyncIterable<string>, outer: AbortSignal): AsyncGenerator<TtsChunk> {
    if (this.closed) throw new ElevenLabsTtsError('the ElevenLabs adapter is closed', 'closed');
    const control = this.track(outer);
    const signal = control.signal;
    const timing = { firstAudioMs: this.timing.firstAudio, idleMs: this.timing.idle };
    const io: TurnIo = { events: new AsyncQueue<SynthesisEvent>(), immediate: [], state: INITIAL_SYNTHESIS, socket: null, offered: null, watchdog: null, keepAlive: null };
    const apply = (event: SynthesisEvent): SynthesisCommand[] => {
      const [next, commands] = reduceSynthesis(io.state, event, timing);
      io.state = next;
      for (const command of commands) this.execute(command, io);
      return commands;
    };
    // Barge-in: close the context now, not when the consumer next pulls.
    const onAbort = () => {
      apply({ type: 'abort' });
      io.events.push({ type: 'abort' });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    void pumpPieces(input, io.events, signal);
    const queued = io.events[Symbol.asyncIterator]();

    try {
      for (;;) {
        let event = io.immediate.shift();
        if (!event) {
          const pulled = await queued.next();
          if (pulled.done) return;
          event = pulled.value;
        }
        if (signal.aborted || event.type === 'abort') return;
        if (event.type === 'piece') event = { ...event, cached: this.cache.get(event.text) };
        for (const command of apply(event)) {
          if (signal.aborted) return;
          if (command.type === 'play') yield { audio: command.audio, text: command.text };
          else if (command.type === 'render-http') yield* this.http.render(command.text, command.pieceText, signal);
          else if (command.type === 'finish') return;
          else if (command.type === 'fail') throw command.error;
        }
      }
    } finally {
      stopTimers(io);
      signal.removeEventListener('abort', onAbort);
      if (io.socket && io.state.contextId && !io.state.finalSeen) io.socket.cancelContext(io.state.contextId);
      io.events.end();
      control.abort(); // stops the input pump if the consumer left early
      this.running.delete(control);
    }
  }

  /** Runs the commands that touch the socket and timers; audio (play, render-http) is the loop's. */
  private execute(command: SynthesisCommand, io: TurnIo): void {
    switch (command.type) {
      case 'connect':
        this.acquireSocket().then(
          (ready) => {
            io.offered = ready;
            io.events.push({ type: 'socket-ready', contextId: `turn-${++this.contextCount}` });
          },
          (error: unknown) =>
            io.events.push(
              error instanceof SocketUnavailable
                ? { type: 'socket-failed', reason: error.reason, detail: error.message }
                : { type: 'socket-failed', reason: 'connect-failed', detail: describeError(error) },
            ),
        );
        return;
      case 'open-context':
        io.socket = io.offered;
        if (!io.socket) return;
        io.socket.openContext(command.contextId, (event) => io.events.push({ type: 'context', event, adapterClosed: this.closed }));
        io.immediate.push({ type: 'context-opened', gone: io.socket.isGone });
        return;
      case 'send-text':
        io.socket?.sendText(command.contextId, command.text, true);
        return;
      case 'end-context':
        io.socket?.endContext(command.contextId);
        return;
      case 'cancel-context':
        io.socket?.cancelContext(command.contextId);
        return;
      case 'start-keep-alive': {
        const owner = io.socket;
        if (owner) io.keepAlive = setInterval(() => !io.state.endSent && owner.keepAlive(command.contextId), this.timing.keepAlive);
        return;
      }
      case 'stop-timers':
        return stopTimers(io);
      case 'arm-watchdog':
        io.watchdog = setTimeout(() => io.events.push({ type: 'stall' }), command.ms);
        return;
      case 'disarm-watchdog':
        if (io.watchdog) clearTimeout(io.watchdog);
        io.watchdog = null;
        return;
      case 'note-socket-failure':
        return this.noteSocketFailure(io.socket);
      case 'terminate-socket':
        return io.socket?.terminate(command.reason);
      case 'report-fallback':
        return this.reportFallback(command.reason, command.detail);
      default:
        return; // play, render-http, finish, fail: the loop's
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

/** What the executor of one reply holds: the reducer's state and the resources its commands act on. */
interface TurnIo {
  events: AsyncQueue<SynthesisEvent>;
  /** Events handled before the next queued one (the context just opened). */
  immediate: SynthesisEvent[];
  state: SynthesisState;
  socket: MultiContextSocket | null;
  /** The socket acquireSocket produced; used once the reducer opens a context on it. */
  offered: MultiContextSocket | null;
  watchdog: NodeJS.Timeout | null;
  keepAlive: NodeJS.Timeout | null;
}

function stopTimers(io: TurnIo): void {
  if (io.watchdog) clearTimeout(io.watchdog);
  if (io.keepAlive) clearInterval(io.keepAlive);
  io.watchdog = io.keepAlive = null;
}

async function pumpPieces(input: AsyncIterable<string>, events: AsyncQueue<SynthesisEvent>, signal: AbortSignal): Promise<void> {
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
