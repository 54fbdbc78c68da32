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
  parseInbound,
  type MediaClock,
  type TwilioInbound,
} from '../media/twilio-protocol.js';
import type { MediaTap } from '../qa/call-recorder.js';
import { headerValue, publicBaseUrl, toWebSocketUrl, validSignature } from './twilio-signature.js';

/** Hard cap on one WebSocket message; anything this large is not Twilio and the socket is closed. */
export const MEDIA_WS_MAX_PAYLOAD = 1536 * 1024;

export interface MediaRouteOptions {
  /** Per-call engines (STT/TTS/VAD/brain). */
  engines: (call: CallContext) => CallEngines;
  /** Alternative upgrade credential (the browser phone's single-use token); true when valid. */
  acceptUpgradeToken?: (request: FastifyRequest) => boolean;
  /** A live observer for the call this upgrade carries (the browser phone's event socket), if any. */
  observeCall?: (request: FastifyRequest) => ((event: CallSessionEvent) => void) | undefined;
}

export async function mediaRoutes(app: FastifyInstance, ctx: AppContext, options: MediaRouteOptions): Promise<void> {
  const authorize = async (request: FastifyRequest, reply: FastifyReply) => {
    if (options.acceptUpgradeToken?.(request)) return;
    const token = ctx.config.twilio.authToken;
    if (!token) return; // development mode (warned at startup)
    // Twilio signs the upgrade GET over the wss:// URL with no parameters.
    const url = toWebSocketUrl(publicBaseUrl(request, ctx.config.publicUrl)) + request.url;
    if (!validSignature(token, headerValue(request.headers['x-twilio-signature']), url, {})) {
      ctx.metrics.signatureRejections.inc({ route: '/media' });
      request.log.warn({ url }, 'rejected media stream upgrade: bad or missing X-Twilio-Signature');
      return reply.code(403).send({ error: 'invalid signature' });
    }
  };

  app.get('/media', { websocket: true, preValidation: authorize }, (socket, request) => {
    new MediaConnection(socket, ctx, request.log as unknown as Logger, options.engines, options.observeCall?.(request));
  });
}

class MediaConnection {
  private session: CallSession | null = null;
  private streamSid: string | null = null;
  private clock: MediaClock = { nextTimestampMs: null };
  private stopped = false;
  /** Frames that arrived while this call's registry claim was pending; replayed once it succeeds. */
  private held: TwilioInbound[] | null = null;
  private log: Logger;
  /** Recording of this call as a replayable fixture (agent `recording.enabled`). */
  private readonly tap: MediaTap | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly ctx: AppContext,
    logger: Logger,
    private readonly engines: (call: CallContext) => CallEngines,
    private readonly observer?: (event: CallSessionEvent) => void,
  ) {
    this.log = logger;
    this.tap = ctx.recordings?.open();
    // Synchronously: Twilio sends `connected` and `start` immediately after the upgrade.
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('close', (code) => this.onClose(code));
    socket.on('error', (error) => this.log.warn({ err: error }, 'media socket error'));
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    try {
      if (isBinary) return this.reject('binary-frame', 'binary frame (Twilio sends JSON text frames)');
      const result = parseInbound(rawToString(data));
      if (!result.ok) return this.reject(result.error.code, result.error.message);
      this.tap?.inbound(result.message);
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
      case 'stop':
        this.stopped = true;
        this.session?.end('caller-hangup');
        return;
    }
    const session = this.session;
    if (!session) return this.reject('before-start', `${message.event} before start`);
    if (message.streamSid !== this.streamSid) return this.reject('wrong-stream', `${message.event} for another stream`);
    switch (message.event) {
      case 'media': {
        const audio = decodePayload(message.media.payload);
        const [clock, silence] = advanceMediaClock(this.clock, message.media.timestamp, audio.length);
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

  private onStart(message: Extract<TwilioInbound, { event: 'start' }>): void {
    if (this.session) return this.reject('duplicate-start', 'second start on one stream');
    const callSid = message.start.callSid;
    this.streamSid = message.streamSid;
    this.log = this.log.child({ callSid, streamSid: message.streamSid });
    const refusal = this.ctx.calls.refusalReason();
    if (refusal) {
      this.ctx.metrics.callsRejected.inc({ reason: refusal });
      this.log.warn({ reason: refusal }, 'refusing media stream');
      this.socket.close(1013, refusal);
      return;
    }
    // One live stream per call across every worker sharing the store: a duplicate is refused.
    this.held = [];
    void this.ctx.liveCalls.claim({ callSid, streamSid: message.streamSid, startedAt: new Date().toISOString() }).then(
      (claim) => {
        const held = this.held ?? [];
        this.held = null;
        if (!claim.ok) {
          this.ctx.metrics.callsRejected.inc({ reason: 'duplicate-stream' });
          this.log.warn({ holder: claim.holder.workerId }, 'refusing media stream: this call is already live elsewhere');
          return this.socket.close(1008, 'call already live');
        }
        if (this.socket.readyState !== this.socket.OPEN) return void this.ctx.liveCalls.release(callSid);
        this.startSession(message);
        for (const next of held) this.handle(next);
      },
      (error: unknown) => {
        this.held = null;
        this.log.error({ err: error }, 'live-call registry failed; refusing the stream');
        this.socket.close(1011, 'registry failure');
      },
    );
  }

  private startSession(message: Extract<TwilioInbound, { event: 'start' }>): void {
    const { start } = message;
    const params = start.customParameters;
    const callSid = start.callSid;
    const streamSid = message.streamSid;
    const socket = this.socket;
    const send = (payload: string) => {
      if (socket.readyState === socket.OPEN) socket.send(payload);
    };
    let engines: CallEngines;
    try {
      engines = this.engines({ callSid, from: params.from ?? '', to: params.to ?? '' });
    } catch (error) {
      this.log.error({ err: error }, 'could not create engines for the call');
      this.socket.close(1011, 'engine failure');
      return;
    }
    const session = new CallSession({
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
      onEvent: this.observer,
      onEnd: (record) => {
        this.tap?.callEnded(record);
        this.ctx.calls.remove(session);
        void this.ctx.liveCalls.release(record.callSid);
        this.ctx.records.save(record).catch((error: unknown) => this.log.error({ err: error }, 'could not write the call record'));
        this.log.info({ endReason: record.endReason, turns: record.turns.length }, 'call ended');
      },
    });
    this.session = session;
    this.ctx.calls.add(session);
    this.log.info({ from: session.record.from }, 'call started');
    session.start();
  }

  private onClose(code: number): void {
    if (this.session && !this.session.isEnded) {
      this.session.end(this.stopped ? 'caller-hangup' : 'socket-closed');
    }
    this.tap?.socketClosed();
    this.log.debug({ code }, 'media socket closed');
  }

  private reject(code: string, detail: string): void {
    this.ctx.metrics.protocolErrors.inc({ code });
    this.session?.noteProtocolError(code);
    this.log.warn({ code, detail }, 'dropped a malformed media-stream frame');
  }
}

function rawToString(data: RawData): string {
  if (typeof data === 'string') return data;
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
