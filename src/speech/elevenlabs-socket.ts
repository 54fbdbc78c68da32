/**
 * One ElevenLabs multi-context text-to-speech WebSocket
 * (`/v1/text-to-speech/{voice_id}/multi-stream-input`): several utterances ("contexts") share one
 * connection, and a barge-in closes one context without reconnecting.
 *
 * Wire format (requests snake_case, replies camelCase; both spellings are accepted on replies):
 *   → {text: ' ', context_id}                 open a context
 *   → {text: 'Hello there. ', context_id, flush: true}
 *   → {text: '', context_id}                  keep the context alive (resets its inactivity clock)
 *   → {context_id, flush: true}               render whatever is buffered
 *   → {context_id, close_context: true}       close; already flushed text still renders, then isFinal
 *   → {close_socket: true}
 *   ← {audio: base64, alignment: {chars, charStartTimesMs, charDurationsMs}, contextId}
 *   ← {isFinal: true, contextId}
 *   ← {message, error, code} before the server closes the socket (e.g. more than 5 contexts)
 */
import WebSocket from 'ws';

/** The server refuses a sixth simultaneous context on one socket (and closes it with 1008). */
export const MAX_CONTEXTS_PER_SOCKET = 5;

export interface Alignment {
  chars: string[];
  /** Relative to the start of the audio chunk the alignment arrived with. */
  charStartTimesMs: number[];
}

export type ContextEvent =
  | { type: 'audio'; audio: Uint8Array; alignment: Alignment | null }
  | { type: 'final' }
  | { type: 'lost'; reason: string };

export class MultiContextSocket {
  /** Resolves once the upgrade succeeded; rejects if it failed or took longer than the timeout. */
  readonly ready: Promise<void>;
  private readonly ws: WebSocket;
  private readonly handlers = new Map<string, (event: ContextEvent) => void>();
  /** Contexts the server still counts against its cap: opened and no isFinal seen yet. */
  private readonly live = new Set<string>();
  private readonly slotWaiters = new Set<() => void>();
  private readonly closeWaiters = new Set<() => void>();
  private connectTimer: NodeJS.Timeout | null = null;
  private lastError: string | null = null;
  private gone: string | null = null;

  constructor(
    url: string,
    apiKey: string,
    connectTimeoutMs: number,
    /** Told once, when the socket is gone for any reason (after its contexts were told). */
    private readonly onGone: (reason: string) => void,
  ) {
    this.ws = new WebSocket(url, { headers: { 'xi-api-key': apiKey }, perMessageDeflate: false });
    this.ready = new Promise<void>((resolve, reject) => {
      this.connectTimer = setTimeout(() => {
        this.lastError = `no connection within ${connectTimeoutMs} ms`;
        this.ws.terminate();
      }, connectTimeoutMs);
      this.ws.once('open', () => {
        this.clearConnectTimer();
        resolve();
      });
      this.ws.once('close', () => reject(new Error(this.lastError ?? 'socket closed before it opened')));
    });
    // Nobody may be waiting on `ready` (a turn can be aborted while connecting): never an unhandled rejection.
    this.ready.catch(() => undefined);
    this.ws.on('error', (error) => {
      this.lastError ??= error.message;
    });
    this.ws.on('message', (data) => this.onMessage(data));
    this.ws.on('close', (code, reason) => this.onClose(code, reason.toString()));
  }

  get isGone(): boolean {
    return this.gone !== null;
  }

  get liveContexts(): number {
    return this.live.size;
  }

  /** Opens a context whose events go to `handler` until its isFinal, `cancelContext` or the socket's end. */
  openContext(contextId: string, handler: (event: ContextEvent) => void): boolean {
    this.handlers.set(contextId, handler);
    this.live.add(contextId);
    return this.send({ text: ' ', context_id: contextId });
  }

  /** A trailing space tells the server the last word is complete; flush renders it without waiting for more text. */
  sendText(contextId: string, text: string, flush: boolean): boolean {
    return this.send({ text: `${text} `, context_id: contextId, flush });
  }

  keepAlive(contextId: string): boolean {
    return this.send({ text: '', context_id: contextId });
  }

  /** End of input: render the tail, then close; the server finishes the audio and sends isFinal. */
  endContext(contextId: string): boolean {
    return this.send({ context_id: contextId, flush: true }) && this.send({ context_id: contextId, close_context: true });
  }

  /**
   * Barge-in: close the context and stop routing its audio at once. The server may still send audio it
   * had already flushed; it is dropped here. The context keeps its slot until the server's isFinal.
   */
  cancelContext(contextId: string): void {
    this.handlers.delete(contextId);
    this.send({ context_id: contextId, close_context: true });
  }

  /** Waits until fewer than the maximum contexts are live; false if that did not happen in time. */
  async waitForSlot(timeoutMs: number): Promise<boolean> {
    if (this.live.size < MAX_CONTEXTS_PER_SOCKET) return true;
    let wake: () => void = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      wake = resolve;
      this.slotWaiters.add(wake);
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
    this.slotWaiters.delete(wake);
    return !this.isGone && this.live.size < MAX_CONTEXTS_PER_SOCKET;
  }

  /** Polite close (close_socket, then a close handshake); terminates if the server does not answer in time. */
  async close(graceMs = 1_000): Promise<void> {
    if (this.gone !== null) return;
    this.clearConnectTimer();
    if (this.ws.readyState !== WebSocket.OPEN) {
      this.ws.terminate();
    } else {
      this.send({ close_socket: true });
      this.ws.close(1000, 'done');
    }
    let wake: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => {
      wake = resolve;
      this.closeWaiters.add(wake);
    });
    const timer = setTimeout(() => this.ws.terminate(), graceMs);
    await closed;
    clearTimeout(timer);
  }

  /** Ends the socket now, e.g. when it stalled: its contexts are told they are lost. */
  terminate(reason: string): void {
    this.lastError ??= reason;
    this.ws.terminate();
  }

  private send(message: Record<string, unknown>): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  private onMessage(data: WebSocket.RawData): void {
    let message: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(data.toString());
      if (typeof parsed !== 'object' || parsed === null) return;
      message = parsed as Record<string, unknown>;
    } catch {
      return;
    }
    const contextId = stringField(message.contextId) ?? stringField(message.context_id);
    const isFinal = message.isFinal === true || message.is_final === true;
    if (message.error !== undefined && message.audio === undefined && !isFinal) {
      // The server reports fatal problems (bad key, too many contexts, timeout) this way, then closes.
      this.terminate(`server error: ${stringField(message.message) ?? JSON.stringify(message.error)}`);
      return;
    }
    if (contextId === undefined) return;
    const handler = this.handlers.get(contextId);
    if (typeof message.audio === 'string' && message.audio.length > 0 && handler) {
      // Copy out of Buffer's shared pool: consumers may keep chunks for the whole call.
      const audio = new Uint8Array(Buffer.from(message.audio, 'base64'));
      handler({ type: 'audio', audio, alignment: parseAlignment(message.alignment) });
    }
    if (isFinal) {
      this.handlers.delete(contextId);
      this.live.delete(contextId);
      for (const wake of this.slotWaiters) wake();
      handler?.({ type: 'final' });
    }
  }

  private onClose(code: number, reason: string): void {
    this.clearConnectTimer();
    const why = this.lastError ?? `socket closed (${code}${reason ? ` ${reason}` : ''})`;
    this.gone = why;
    const handlers = [...this.handlers.values()];
    this.handlers.clear();
    this.live.clear();
    for (const handler of handlers) handler({ type: 'lost', reason: why });
    for (const wake of this.slotWaiters) wake();
    for (const wake of this.closeWaiters) wake();
    this.onGone(why);
  }

  private clearConnectTimer(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function parseAlignment(value: unknown): Alignment | null {
  if (typeof value !== 'object' || value === null) return null;
  const { chars, charStartTimesMs } = value as { chars?: unknown; charStartTimesMs?: unknown };
  if (!Array.isArray(chars) || !Array.isArray(charStartTimesMs) || chars.length !== charStartTimesMs.length) return null;
  return { chars: chars.map(String), charStartTimesMs: charStartTimesMs.map(Number) };
}
