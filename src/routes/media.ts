/**
 * The media WebSocket (`/media`): Twilio Media Streams, bidirectional. The upgrade is authenticated
 * before any session exists; the message handler is attached synchronously so `connected` and
 * `start` are never lost. One bad frame is logged and dropped; it never ends this or another call.
 */
import type {} from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { WebSocket, RawData } from 'ws';
import type { AppContext } from '../app-context.js';
import type { CallContext } from '../dialog/brain.js';
import type { CallSessionEvent } from '../dialog/call-events.js';
import type { CallEngines } from '../dialog/call-engines.js';
import { CallSession } from '../dialog/call-session.js';
import {
  advanceMediaClock,
  clearMessage,
  decodePayload,
  markMessage,
  mediaMessage,
  MAX_INBOUND_FRAME_BYTES,
  parseInbound,
  type MediaClock,
  type TwilioInbound,
  type TwilioStart,
} from '../media/twilio-protocol.js';
import type { MediaTap } from '../recording/fixture-recorder.js';
import type { LiveCall } from '../call-manager.js';
import { sendError } from './http-errors.js';
import { MediaSocketGuard, TWILIO_MESSAGE_RATE, type MessageRateLimit } from './media-guard.js';
import { STREAM_TICKET_PARAMETER, type StreamTickets } from './stream-ticket.js';
import type { ConversationSnapshot } from '../store/transfer-store.js';
import { headerValue, publicBaseUrl, toWebSocketUrl, validSignature } from './twilio-signature.js';

/**
 * Hard cap on one WebSocket message, enforced by ws itself (close 1009 before the frame is
 * buffered): the protocol parser's own limit, since a 20 ms Twilio frame is ~400 bytes.
 */
export const MEDIA_WS_MAX_PAYLOAD = MAX_INBOUND_FRAME_BYTES;
/** A socket must send a valid `start` this soon after the upgrade, or it is closed. */
export const START_TIMEOUT_MS = 5_000;

export interface MediaRouteOptions {
  /** Per-call engines (STT/TTS/VAD/brain). */
  engines: (call: CallContext) => CallEngines;
  /** Alternative upgrade credential (the browser phone's single-use token); true when valid. */
  acceptUpgradeToken?: (request: FastifyRequest) => boolean;
  /** A live observer for the call this upgrade carries (the browser phone's event socket), if any. */
  observeCall?: (request: FastifyRequest) => ((event: CallSessionEvent) => void) | undefined;
  /** Checks the `/voice` ticket in a Twilio stream's `start`. */
  tickets: StreamTickets;
  /** Start timeout, ms (tests shorten it). */
  startTimeoutMs?: number;
  /** How far ahead of real time a socket may send (default: Twilio's pace with wide room; null: off). */
  messageRate?: MessageRateLimit | null;
}

export async function mediaRoutes(app: FastifyInstance, ctx: AppContext, options: MediaRouteOptions): Promise<void> {
  /** Upgrades admitted by a browser-phone token: their `start` carries no `/voice` ticket. */
  const phoneAdmitted = new WeakSet<FastifyRequest>();

  const authorize = async (request: FastifyRequest, reply: FastifyReply) => {
    // Before any credential is looked at: a plain GET must not use up a phone token.
    if (!request.ws) return sendError(reply, 'VA_NOT_AN_UPGRADE');
    if (!ctx.calls.canOpenSocket(request.ip)) {
      ctx.metrics.callsRejected.inc({ reason: 'socket-limit' });
      return sendError(reply, ctx.calls.sockets >= ctx.calls.maxSockets ? 'VA_SOCKETS_FULL' : 'VA_TOO_MANY_SOCKETS');
    }
    if (options.acceptUpgradeToken?.(request)) {
      phoneAdmitted.add(request);
      return;
    }
    const token = ctx.config.twilio.authToken;
    if (!token) return; // development mode (warned at startup); the stream ticket still applies
    // Twilio signs the upgrade GET over the wss:// URL with no parameters.
    const url = toWebSocketUrl(publicBaseUrl(request, ctx.config.publicUrl)) + request.url;
    if (!validSignature(token, headerValue(request.headers['x-twilio-signature']), url, {})) {
      ctx.metrics.signatureRejections.inc({ route: '/media' });
      // The URL is the attacker's: not logged.
      request.log.warn('rejected media stream upgrade: bad or missing X-Twilio-Signature');
      return sendError(reply, 'VA_BAD_SIGNATURE');
    }
  };

  app.get('/media', { websocket: true, preValidation: authorize }, (socket, request) => {
    const address = request.ip;
    if (!ctx.calls.openSocket(address)) {
      socket.close(1013, 'too many sockets');
      return;
    }
    socket.once('close', () => ctx.calls.closeSocket(address));
    new MediaConnection(socket, ctx, request.log as unknown as Logger, {
      engines: options.engines,
      observer: options.observeCall?.(request),
      needsTicket: !phoneAdmitted.has(request),
      tickets: options.tickets,
      startTimeoutMs: options.startTimeoutMs ?? START_TIMEOUT_MS,
      messageRate: options.messageRate === undefined ? TWILIO_MESSAGE_RATE : options.messageRate,
    });
  });
}

interface ConnectionOptions {
  engines: (call: CallContext) => CallEngines;
  observer: ((event: CallSessionEvent) => void) | undefined;
  needsTicket: boolean;
  tickets: StreamTickets;
  startTimeoutMs: number;
  messageRate: MessageRateLimit | null;
}

class MediaConnection {
  private call: LiveCall | null = null;
  private streamSid: string | null = null;
  private clock: MediaClock = { nextTimestampMs: null };
  private stopped = false;
  private closing = false;
  /** Frames that arrived while this call's registry claim (or resumed conversation) was loading; replayed once it starts. */
  private held: TwilioInbound[] | null = null;
  private log: Logger;
  /** Recording of this call as a replayable fixture (agent `recording.enabled`), from `start` on. */
  private tap: MediaTap | undefined;
  private readonly guard: MediaSocketGuard;
  private readonly startTimer: NodeJS.Timeout;

  constructor(
    private readonly socket: WebSocket,
    private readonly ctx: AppContext,
    logger: Logger,
    private readonly options: ConnectionOptions,
  ) {
    this.log = logger;
    this.guard = new MediaSocketGuard(performance.now(), options.messageRate);
    // Synchronously: Twilio sends `connected` and `start` immediately after the upgrade.
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('close', (code) => this.onClose(code));
    socket.on('error', (error) => this.log.warn({ err: error }, 'media socket error'));
    this.startTimer = setTimeout(() => {
      if (this.call) return;
      this.ctx.metrics.protocolErrors.inc({ code: 'no-start' });
      this.log.warn({ timeoutMs: options.startTimeoutMs }, 'closing a media socket that sent no start');
      this.closeSocket(1008, 'no start');
    }, options.startTimeoutMs);
    this.startTimer.unref();
  }

  private get session(): CallSession | null {
    return this.call?.session ?? null;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closing) return;
    try {
      if (!this.guard.message(performance.now())) {
        this.ctx.metrics.protocolErrors.inc({ code: 'flood' });
        this.log.warn('closing a media socket sending far faster than real time');
        return this.closeSocket(1008, 'too fast');
      }
      if (isBinary) return this.reject('binary-frame', 'binary frame (Twilio sends JSON text frames)');
      const result = parseInbound(rawToString(data));
      if (!result.ok) return this.reject(result.error.code, result.error.message);
      this.handle(result.message);
    } catch (error) {
      // A bug in one call's handling must not take the process (or other calls) down.
      this.log.error({ err: error }, 'unexpected error handling a media frame; frame dropped');
      this.ctx.metrics.protocolErrors.inc({ code: 'internal' });
    }
  }

  private handle(message: TwilioInbound): void {
    if (this.held) return void this.held.push(message);
    switch (message.event) {
      case 'connected':
        this.log.debug({ protocol: message.protocol, version: message.version }, 'media stream connected');
        return;
      case 'start':
        return this.onStart(message);
    }
    const session = this.session;
    if (!session) return this.reject('before-start', `${message.event} before start`);
    if (message.streamSid !== this.streamSid) return this.reject('wrong-stream', `${message.event} for another stream`);
    this.tap?.inbound(message);
    switch (message.event) {
      case 'stop':
        this.stopped = true;
        session.end('caller-hangup');
        return;
      case 'media': {
        const audio = decodePayload(message.media.payload);
        const [clock, silence] = advanceMediaClock(this.clock, message.media.timestamp, audio.length, performance.now());
        this.clock = clock;
        if (silence) session.onAudio(silence);
        if (audio.length > 0) session.onAudio(audio);
        return;
      }
      case 'dtmf':
        return session.onDtmf(message.dtmf.digit);
      case 'mark':
        return session.onMark(message.mark.name);
    }
  }

  /** Why this `start` may not become a call (close code and reason), or null. */
  private admission(message: TwilioStart): { code: number; reason: string } | null {
    const { callSid, customParameters: params } = message.start;
    if (this.options.needsTicket) {
      const call = { callSid, from: params.from ?? '', to: params.to ?? '' };
      const verdict = this.options.tickets.redeem(call, params[STREAM_TICKET_PARAMETER]);
      if (verdict !== 'ok') {
        this.ctx.metrics.callsRejected.inc({ reason: `ticket-${verdict}` });
        return { code: 1008, reason: `stream ticket ${verdict}` };
      }
    }
    const refusal = this.ctx.calls.refusalReason(callSid);
    if (!refusal) return null;
    this.ctx.metrics.callsRejected.inc({ reason: refusal });
    return { code: refusal === 'call-already-live' ? 1008 : 1013, reason: refusal };
  }

  private onStart(message: TwilioStart): void {
    if (this.call || this.streamSid) return this.reject('duplicate-start', 'second start on one stream');
    const callSid = message.start.callSid;
    this.streamSid = message.streamSid;
    this.log = this.log.child({ callSid, streamSid: message.streamSid });
    const refused = this.admission(message);
    if (refused) {
      this.log.warn({ reason: refused.reason }, 'refusing media stream');
      return this.closeSocket(refused.code, refused.reason);
    }
    clearTimeout(this.startTimer);
    // One live stream per call across every worker sharing the store: a duplicate is refused.
    // Frames that arrive while the claim (and a resumed call's conversation) load are held.
    this.held = [];
    void this.claimAndStart(message);
  }

  private async claimAndStart(message: TwilioStart): Promise<void> {
    const callSid = message.start.callSid;
    try {
      const claim = await this.ctx.liveCalls.claim({ callSid, streamSid: message.streamSid, startedAt: new Date().toISOString() });
      if (!claim.ok) {
        this.held = null;
        this.ctx.metrics.callsRejected.inc({ reason: 'duplicate-stream' });
        this.log.warn({ holder: claim.holder.workerId }, 'refusing media stream: this call is already live elsewhere');
        return this.closeSocket(1008, 'call-already-live');
      }
      const resumed = await this.loadResumed(message);
      const held = this.held ?? [];
      this.held = null;
      if (this.socket.readyState !== this.socket.OPEN) return void this.ctx.liveCalls.release(callSid);
      this.startCall(message, resumed);
      for (const next of held) this.handle(next);
    } catch (error) {
      this.held = null;
      this.log.error({ err: error }, 'live-call registry failed; refusing the stream');
      this.closeSocket(1011, 'registry failure');
    }
  }

  /** A call back from a warm transfer nobody took: its conversation so far, from the store. */
  private async loadResumed(message: TwilioStart): Promise<ConversationSnapshot | undefined> {
    const resumeId = message.start.customParameters.resume;
    const transfer = this.ctx.transfer;
    if (!resumeId || !transfer) return undefined;
    try {
      const snapshot = await transfer.resume(message.start.callSid, resumeId);
      if (!snapshot) this.log.warn({ resume: resumeId }, 'resume parameter without a transfer to come back from; starting afresh');
      return snapshot ?? undefined;
    } catch (error) {
      this.log.error({ err: error }, 'could not load the conversation to resume; starting afresh');
      return undefined;
    }
  }

  /** An admitted, claimed `start` becomes a call (`resumed`: back from a transfer nobody took). */
  private startCall(message: TwilioStart, resumed?: ConversationSnapshot): void {
    const { callSid, customParameters: params } = message.start;
    let engines: CallEngines;
    try {
      const resume = resumed ? { resume: { brainState: resumed.brainState, reason: 'transfer-failed' as const } } : {};
      engines = this.options.engines({ callSid, from: params.from ?? '', to: params.to ?? '', ...resume });
    } catch (error) {
      this.log.error({ err: error }, 'could not create engines for the call');
      void this.ctx.liveCalls.release(callSid);
      return this.closeSocket(1011, 'engine failure');
    }
    const session = this.createSession(message, engines, resumed);
    const call = this.ctx.calls.add(session);
    if (typeof call === 'string') {
      this.log.warn({ reason: call }, 'refusing media stream');
      void this.ctx.liveCalls.release(callSid);
      return this.closeSocket(call === 'call-already-live' ? 1008 : 1013, call);
    }
    this.call = call;
    // Recording starts with an admitted call: nothing a socket sends before `start` is kept.
    this.tap = this.ctx.recordings?.open();
    this.tap?.inbound({ event: 'connected' });
    this.tap?.inbound(message);
    this.log.info({ from: session.record.from }, 'call started');
    session.start();
  }

  private createSession(message: TwilioStart, engines: CallEngines, resumed?: ConversationSnapshot): CallSession {
    const { callSid, customParameters: params } = message.start;
    const streamSid = message.streamSid;
    const socket = this.socket;
    // Closing a transfer attempt the call abandoned; the record waits for it (it lists the attempt).
    let abandoned: Promise<unknown> = Promise.resolve();
    const send = (payload: string) => {
      if (socket.readyState === socket.OPEN) socket.send(payload);
    };
    const session: CallSession = new CallSession({
      callSid,
      streamSid,
      from: params.from ?? '',
      to: params.to ?? '',
      agent: this.ctx.agent,
      engines,
      transport: {
        sendMedia: (audio) => {
          this.tap?.outMedia(audio);
          send(mediaMessage(streamSid, audio));
        },
        sendMark: (name) => {
          this.tap?.outMark(name);
          send(markMessage(streamSid, name));
        },
        sendClear: () => {
          this.tap?.outClear();
          send(clearMessage(streamSid));
        },
        close: () => {
          this.tap?.outClose();
          if (socket.readyState === socket.OPEN) socket.close(1000, 'call ended');
        },
      },
      logger: this.log,
      metrics: this.ctx.metrics,
      onEvent: this.options.observer,
      ...(this.ctx.transfer
        ? {
            onTransfer: (snapshot) => this.ctx.transfer!.handOver(callSid, snapshot),
            onTransferAbandoned: (reason) => (abandoned = this.ctx.transfer!.cancelPending(callSid, reason === 'caller-hangup' ? 'caller-hung-up' : 'cancelled')),
          }
        : {}),
      ...(resumed ? { resume: { history: resumed.history, brainState: resumed.brainState } } : {}),
      onEnd: (record) => {
        this.tap?.callEnded(record);
        if (this.call) this.ctx.calls.remove(this.call);
        void this.ctx.liveCalls.release(record.callSid);
        // With its transfers; a call back from a transfer is one record (the turns before the hold and after it).
        const transfer = this.ctx.transfer;
        const whole = transfer ? abandoned.catch(() => undefined).then(() => transfer.completeRecord(record, resumed?.record)) : undefined;
        this.ctx.records.save(record, whole).catch((error: unknown) => this.log.error({ err: error }, 'could not write the call record'));
        this.log.info({ endReason: record.endReason, turns: record.turns.length }, 'call ended');
      },
    });
    return session;
  }

  private closeSocket(code: number, reason: string): void {
    this.closing = true;
    clearTimeout(this.startTimer);
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) this.socket.close(code, reason);
  }

  private onClose(code: number): void {
    clearTimeout(this.startTimer);
    this.closing = true;
    const session = this.session;
    if (session && !session.isEnded) session.end(this.stopped ? 'caller-hangup' : 'socket-closed');
    this.tap?.socketClosed();
    this.log.debug({ code }, 'media socket closed');
  }

  private reject(code: string, detail: string): void {
    this.ctx.metrics.protocolErrors.inc({ code });
    this.session?.noteProtocolError(code);
    const verdict = this.guard.protocolError(performance.now());
    if ('close' in verdict) {
      this.log.warn({ errors: this.guard.protocolErrors }, 'closing a media socket that keeps sending malformed frames');
      return this.closeSocket(1008, 'too many malformed frames');
    }
    if (verdict.log === 'each') this.log.warn({ code, detail }, 'dropped a malformed media-stream frame');
    else if (verdict.log === 'summary') this.log.warn({ code, suppressed: verdict.suppressed }, 'dropped more malformed media-stream frames');
  }
}

function rawToString(data: RawData): string {
  if (typeof data === 'string') return data;
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
