/**
 * Deepgram live speech-to-text (`/v1/listen` over WebSocket) through the official SDK: the
 * connection, its audio and its replay live here; turns are assembled in deepgram-turn.ts.
 *
 * One socket per call, fed Twilio's μ-law 8 kHz as is. Turn-taking combines both detectors:
 * - our VAD is the authority while it tracks the caller: `speechEnded()` sends `Finalize` and the
 *   turn's final is emitted when Deepgram answers it (`from_finalize`), or after
 *   `finalizeTimeoutMs` with whatever was heard, because Deepgram does not promise an answer;
 * - when our VAD is idle (it missed the speech), Deepgram's own `speech_final` / `UtteranceEnd`
 *   close the turn.
 * Either way the session gets exactly one `transcript-final` with `endOfTurn: true` per turn.
 *
 * Reconnect is ours (the SDK's silent retries are off): a socket lost mid-call is replaced within
 * `reconnectBudgetMs`, and the audio Deepgram had not finalised is replayed from a bounded ring so
 * the turn in progress is not lost. Past the budget the stream fails with a fatal error event.
 *
 * Audio goes out in `chunkMs` messages (default 40 ms: two Twilio frames), one copy per frame:
 * each socket message is a syscall and a WebSocket frame, and at 50 per second per call the sends
 * were ~11 % of the busy main thread in a 50-call profile. Deepgram recommends 20–250 ms of audio
 * per message. A held frame goes out before `Finalize` and `CloseStream`, so the end of a turn is
 * never waiting for it.
 *
 * Keyword hints (`setHints`) cannot change a live socket: they are sent as `keyterm` (Nova-3) or
 * `keywords` (older models) on the next (re)connect.
 */
import { DeepgramClient } from '@deepgram/sdk';
import type { Logger } from 'pino';
import { BYTES_PER_MS } from '../media/mulaw.js';
import { AudioRing } from './audio-ring.js';
import { DeepgramTurn, type LiveMessage } from './deepgram-turn.js';
import type { SpeechToText, SttEvent, SttHints, SttOpenOptions, SttStream } from './stt.js';

export interface DeepgramSttOptions {
  apiKey: string;
  /** Base URL override (`DEEPGRAM_URL`), e.g. `ws://127.0.0.1:PORT`; default is Deepgram's cloud. */
  url?: string;
  model?: string;
  language?: string;
  /** Silence after speech before Deepgram marks `speech_final`, ms. */
  endpointingMs?: number;
  /** Gap after the last finalised word before Deepgram sends `UtteranceEnd`, ms (≥ 1000). */
  utteranceEndMs?: number;
  /** Longest outage (including the first connect) before the stream fails for good, ms. */
  reconnectBudgetMs?: number;
  /** With no audio sent for this long, a KeepAlive is sent (Deepgram closes idle sockets at ~10 s). */
  keepAliveMs?: number;
  /** How long to wait for Deepgram's answer to `Finalize` before closing the turn anyway, ms. */
  finalizeTimeoutMs?: number;
  /** Unfinalised audio kept for replay after a reconnect, ms. */
  replayMs?: number;
  /** Audio per socket message, ms (rounded to whole frames as they arrive; 20 sends every frame). */
  chunkMs?: number;
  logger?: Logger;
}

type Settings = Required<Omit<DeepgramSttOptions, 'apiKey' | 'url' | 'language' | 'logger'>> &
  Pick<DeepgramSttOptions, 'language' | 'logger'>;

type ListenSocket = Awaited<ReturnType<DeepgramClient['listen']['v1']['connect']>>;

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 1000;

export class DeepgramStt implements SpeechToText {
  readonly name: string;
  private readonly client: DeepgramClient;
  private readonly settings: Settings;

  constructor(options: DeepgramSttOptions) {
    this.settings = {
      model: options.model ?? 'nova-3',
      language: options.language,
      endpointingMs: options.endpointingMs ?? 300,
      utteranceEndMs: options.utteranceEndMs ?? 1000,
      reconnectBudgetMs: options.reconnectBudgetMs ?? 3000,
      keepAliveMs: options.keepAliveMs ?? 3000,
      finalizeTimeoutMs: options.finalizeTimeoutMs ?? 1500,
      replayMs: options.replayMs ?? 20_000,
      chunkMs: options.chunkMs ?? 40,
      logger: options.logger,
    };
    this.name = `deepgram:${this.settings.model}`;
    this.client = new DeepgramClient({ apiKey: options.apiKey, ...(options.url ? { baseUrl: options.url } : {}) });
  }

  open(options: SttOpenOptions): SttStream {
    return new DeepgramSttStream(this.client, this.settings, options);
  }
}

class DeepgramSttStream implements SttStream {
  private state: 'running' | 'failed' | 'closed' = 'running';
  private hints: SttHints;
  // Connection
  private socket: ListenSocket | null = null;
  private socketOpen = false;
  /** Identifies the current connection attempt; events of older sockets are ignored. */
  private attempt = 0;
  private connects = 0;
  private outageSince: number | null = performance.now();
  private retryDelayMs = FIRST_RETRY_MS;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly keepAliveTimer: NodeJS.Timeout;
  private lastSentAt = performance.now();
  // Audio
  private readonly ring: AudioRing;
  /** Stream position of the next byte for Deepgram (gated silence is not counted). */
  private nextIndex = 0;
  /** Stream position of the first byte sent on the current socket (its audio time 0). */
  private connectionBase = 0;
  private quietMs = 0;
  /** The next socket message being filled (frames are copied in; the ring keeps views of it). */
  private chunk: Uint8Array;
  private chunkFilled = 0;
  private readonly turn: DeepgramTurn;
  private readonly onAbort = () => this.close();

  constructor(
    private readonly client: DeepgramClient,
    private readonly settings: Settings,
    private readonly options: SttOpenOptions,
  ) {
    this.hints = options.hints;
    this.ring = new AudioRing(settings.replayMs * BYTES_PER_MS);
    this.chunk = new Uint8Array(this.chunkBytes());
    this.turn = new DeepgramTurn({
      emit: (event) => this.emit(event),
      sendFinalize: () => this.sendFinalize(),
      finalisedBefore: (index) => this.ring.trimBefore(index),
      nextIndex: () => this.nextIndex,
      toIndex: (seconds) => this.toIndex(seconds),
      finalizeTimeoutMs: settings.finalizeTimeoutMs,
      logger: settings.logger,
    });
    this.keepAliveTimer = setInterval(() => this.keepAlive(), Math.max(50, settings.keepAliveMs / 2));
    if (options.signal.aborted) {
      this.close();
      return;
    }
    options.signal.addEventListener('abort', this.onAbort, { once: true });
    this.connect();
  }

  write(mulaw: Uint8Array): void {
    if (this.state !== 'running') return;
    const quiet = isQuiet(mulaw);
    this.quietMs = quiet ? this.quietMs + mulaw.length / BYTES_PER_MS : 0;
    // Between turns, long digital silence is not worth streaming (Deepgram bills audio):
    // KeepAlive holds the socket instead. During a turn Deepgram needs the silence to endpoint.
    if (quiet && this.quietMs > this.settings.keepAliveMs && !this.turn.open) return;
    // Copied once (the caller may reuse its frame buffer) into the message being filled.
    if (this.chunkFilled + mulaw.length > this.chunk.length) this.flushAudio();
    if (mulaw.length > this.chunk.length) this.chunk = new Uint8Array(mulaw.length);
    this.chunk.set(mulaw, this.chunkFilled);
    this.ring.push(this.nextIndex, this.chunk.subarray(this.chunkFilled, this.chunkFilled + mulaw.length));
    this.chunkFilled += mulaw.length;
    this.nextIndex += mulaw.length;
    if (this.chunkFilled >= this.chunkBytes()) this.flushAudio();
  }

  /** Bytes per socket message. */
  private chunkBytes(): number {
    return Math.max(1, Math.round(this.settings.chunkMs * BYTES_PER_MS));
  }

  /** Sends the audio held for the current message (if the socket is open) and starts a new one. */
  private flushAudio(): void {
    if (this.chunkFilled === 0) return;
    const audio = this.chunk.subarray(0, this.chunkFilled);
    // Never reused: the ring holds views of it, and the socket may not have written it yet.
    this.chunk = new Uint8Array(this.chunkBytes());
    this.chunkFilled = 0;
    if (this.socketOpen) this.send('media', (socket) => socket.sendMedia(audio));
  }

  speechStarted(): void {
    if (this.state === 'running') this.turn.speechStarted();
  }

  speechEnded(): void {
    if (this.state === 'running') this.turn.speechEnded();
  }

  setHints(hints: SttHints): void {
    this.hints = hints; // takes effect at the next (re)connect: a live socket's query is fixed
  }

  close(): void {
    if (this.state === 'closed') return;
    // Ask Deepgram to end the stream cleanly before the socket goes.
    if (this.state === 'running' && this.socketOpen) this.flushAudio();
    if (this.state === 'running' && this.socketOpen) this.send('CloseStream', (socket) => socket.sendCloseStream({ type: 'CloseStream' }));
    this.shutDown('closed');
  }

  // ---- connection -------------------------------------------------------------------------

  private connect(): void {
    const attempt = ++this.attempt;
    this.connects++;
    const budgetLeftMs = this.settings.reconnectBudgetMs - (performance.now() - (this.outageSince ?? performance.now()));
    const keyterms = [...(this.hints.keywords ?? [])].filter((k) => k.trim() !== '');
    const hintParam = this.settings.model.startsWith('nova-3') ? 'keyterm' : 'keywords';
    this.client.listen.v1
      .connect({
        model: this.settings.model,
        ...(this.settings.language ? { language: this.settings.language } : {}),
        encoding: 'mulaw',
        sample_rate: 8000,
        channels: 1,
        interim_results: 'true',
        endpointing: this.settings.endpointingMs,
        utterance_end_ms: this.settings.utteranceEndMs,
        vad_events: 'true',
        smart_format: 'true',
        punctuate: 'true',
        ...(keyterms.length > 0 ? { [hintParam]: keyterms } : {}),
        reconnectAttempts: 0,
        connectionTimeoutInSeconds: Math.max(0.25, budgetLeftMs / 1000),
      })
      .then(
        (socket) => {
          // Closed or superseded while the SDK prepared the socket: it never connected, drop it.
          if (this.state !== 'running' || attempt !== this.attempt) return;
          this.socket = socket;
          socket.on('open', () => this.onOpen(attempt));
          socket.on('message', (message) => attempt === this.attempt && this.onMessage(message as LiveMessage));
          socket.on('close', (event) => this.onSocketLost(attempt, `socket closed (code ${event.code})`, false));
          socket.on('error', (error) => this.onSocketLost(attempt, error.message, isPermanentFailure(error.message)));
          socket.connect();
        },
        (error: unknown) => this.onSocketLost(attempt, String(error), true),
      );
  }

  private onOpen(attempt: number): void {
    if (this.state !== 'running' || attempt !== this.attempt || !this.socket) return;
    this.socketOpen = true;
    this.outageSince = null;
    this.retryDelayMs = FIRST_RETRY_MS;
    // The new socket's audio time 0 is the oldest unfinalised byte: replay from there.
    this.connectionBase = this.ring.firstIndex ?? this.nextIndex;
    // The ring holds every byte written, the held message's too: replay covers it.
    const replay = this.ring.contents();
    this.chunk = new Uint8Array(this.chunkBytes());
    this.chunkFilled = 0;
    if (this.connects > 1) {
      this.settings.logger?.info({ replayBytes: this.ring.byteLength, lostBytes: this.ring.droppedBytes }, 'deepgram reconnected; replaying unfinalised audio');
      this.turn.replaying();
    }
    for (const chunk of replay) this.send('media', (socket) => socket.sendMedia(chunk));
    if (this.turn.finalizePending) this.sendFinalize();
  }

  private sendFinalize(): void {
    this.flushAudio(); // the turn's last frame must reach Deepgram before the Finalize
    if (this.socketOpen) this.send('Finalize', (socket) => socket.sendFinalize({ type: 'Finalize' }));
  }

  private onSocketLost(attempt: number, reason: string, permanent: boolean): void {
    if (this.state !== 'running' || attempt !== this.attempt) return;
    this.socketOpen = false;
    if (permanent) {
      this.fail(new Error(`Deepgram refused the stream: ${reason}`));
      return;
    }
    // A failed socket reports both `close` and `error`: one retry per attempt. The old socket is
    // released only when the retry runs, so its later events (e.g. the HTTP status) still arrive.
    if (this.reconnectTimer) return;
    const now = performance.now();
    this.outageSince ??= now;
    const leftMs = this.settings.reconnectBudgetMs - (now - this.outageSince);
    if (leftMs <= 0) {
      this.fail(new Error(`Deepgram unreachable for ${this.settings.reconnectBudgetMs} ms (last: ${reason})`));
      return;
    }
    this.settings.logger?.warn({ reason, retryInMs: this.retryDelayMs }, 'deepgram socket lost; reconnecting');
    const delay = Math.min(this.retryDelayMs, leftMs);
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, MAX_RETRY_MS);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.releaseSocket();
      this.connect();
    }, delay);
  }

  private keepAlive(): void {
    if (this.socketOpen && performance.now() - this.lastSentAt >= this.settings.keepAliveMs) {
      // The message object is required: an empty frame would tell Deepgram the audio has ended.
      this.send('KeepAlive', (socket) => socket.sendKeepAlive({ type: 'KeepAlive' }));
    }
  }

  private send(what: string, action: (socket: ListenSocket) => void): void {
    const socket = this.socket;
    if (!socket) return;
    try {
      action(socket);
      this.lastSentAt = performance.now();
    } catch (error) {
      // The socket closed under us; its close event drives the reconnect.
      this.settings.logger?.debug({ err: error, what, readyState: socket.readyState }, 'deepgram send failed');
    }
  }

  private releaseSocket(): void {
    const socket = this.socket;
    this.attempt++; // the SDK reports our own close() synchronously: it must not look like a drop
    this.socket = null;
    this.socketOpen = false;
    if (socket) closeQuietly(socket);
  }

  private fail(error: Error): void {
    this.settings.logger?.error({ err: error }, 'deepgram speech recognition failed');
    this.shutDown('failed');
    this.options.onEvent({ type: 'error', error, fatal: true });
  }

  /** Stops everything this stream started: timers, the socket and the abort listener. */
  private shutDown(state: 'failed' | 'closed'): void {
    this.state = state;
    this.attempt++;
    this.options.signal.removeEventListener('abort', this.onAbort);
    clearInterval(this.keepAliveTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.turn.dispose();
    this.reconnectTimer = null;
    const socket = this.socket;
    this.socket = null;
    this.socketOpen = false;
    this.ring.clear();
    if (socket) closeQuietly(socket); // its close event is ignored: the state is no longer running
  }

  private onMessage(message: LiveMessage): void {
    if (this.state !== 'running' || typeof message !== 'object' || message === null) return;
    this.turn.onMessage(message);
  }

  /** A time in the current socket's audio (seconds) as a stream position. */
  private toIndex(seconds: number): number {
    return this.connectionBase + Math.round(seconds * 1000 * BYTES_PER_MS);
  }

  private emit(event: SttEvent): void {
    if (this.state === 'running') this.options.onEvent(event);
  }
}

/** Every sample in μ-law segment 0 (|x| ≤ 120 of 32k): digital silence or near it. */
function isQuiet(mulaw: Uint8Array): boolean {
  for (const byte of mulaw) if ((~byte & 0x7f) >= 0x10) return false;
  return true;
}

/** An HTTP 4xx on the upgrade (bad key, bad parameters) will not heal by retrying; 408/429 may. */
function isPermanentFailure(message: string): boolean {
  const status = Number(/Unexpected server response: (\d{3})/.exec(message)?.[1]);
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

function closeQuietly(socket: ListenSocket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}
