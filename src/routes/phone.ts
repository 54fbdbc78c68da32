/**
 * The browser phone: the page (`GET /` and its assets under `/phone/`), `POST /phone/session`, and
 * the live event socket `/phone/events`. The page speaks Twilio Media Streams to `/media` itself;
 * this module only lets it in (a single-use token instead of a Twilio signature) and shows it what
 * the call session is doing.
 *
 * Why the token travels as a WebSocket subprotocol (`Sec-WebSocket-Protocol: voice-agent-phone,
 * token.<token>`) and not as `?token=`: browsers cannot set headers on a WebSocket, and the
 * subprotocol list is the one header they do send; unlike a query string it is not written to
 * request logs or proxy access logs. The server answers with the plain `voice-agent-phone`
 * protocol, never echoing the token (see `selectSubprotocol`).
 */
import { readFileSync } from 'node:fs';
import type {} from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.js';
import type { CallSessionEvent } from '../dialog/call-events.js';
import { sendError } from './http-errors.js';
import { adminGuard } from './ops.js';
import { PhoneLink, PhoneTokenStore, type PhoneTokenKind } from './phone-tokens.js';
import { headerValue, publicBaseUrl, toWebSocketUrl } from './twilio-signature.js';

export const PHONE_SUBPROTOCOL = 'voice-agent-phone';
const TOKEN_PREFIX = 'token.';

/** The page and its scripts, read once at startup (a handful of small files). */
const PAGE_DIR = new URL('../../public/phone/', import.meta.url);
const ASSET_TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'phone.js': 'text/javascript; charset=utf-8',
  'phone-worklet.js': 'text/javascript; charset=utf-8',
  'g711.js': 'text/javascript; charset=utf-8',
  'phone.css': 'text/css; charset=utf-8',
};
const PAGE_CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

/**
 * ws `handleProtocols`: pick our plain protocol (or the client's first non-token one); never a
 * token. Twilio offers no subprotocol, so this is a no-op for real calls.
 */
export function selectSubprotocol(protocols: Set<string>): string | false {
  if (protocols.has(PHONE_SUBPROTOCOL)) return PHONE_SUBPROTOCOL;
  for (const protocol of protocols) if (!protocol.startsWith(TOKEN_PREFIX)) return protocol;
  return false;
}

function tokenFromRequest(request: FastifyRequest): string | undefined {
  const offered = headerValue(request.headers['sec-websocket-protocol']) ?? '';
  const entry = offered
    .split(',')
    .map((p) => p.trim())
    .find((p) => p.startsWith(TOKEN_PREFIX));
  return entry?.slice(TOKEN_PREFIX.length);
}

/** Shared by the media route (token check, event observer) and the phone routes. */
export class BrowserPhone {
  readonly tokens: PhoneTokenStore;
  /** Which upgrade request presented which token: the observer of that call and its event socket. */
  private readonly links = new WeakMap<FastifyRequest, PhoneLink>();

  constructor(tokens = new PhoneTokenStore()) {
    this.tokens = tokens;
  }

  /** Consumes the request's token of `kind`; true (and remembered for this request) when valid. */
  admit(request: FastifyRequest, kind: PhoneTokenKind): boolean {
    const link = this.tokens.consume(tokenFromRequest(request), kind);
    if (!link) return false;
    this.links.set(request, link);
    return true;
  }

  /** For `mediaRoutes({ acceptUpgradeToken })`. */
  readonly acceptMediaUpgrade = (request: FastifyRequest): boolean => this.admit(request, 'media');

  /** For `mediaRoutes({ observeCall })`: the call's events go to the page that placed it, if any. */
  readonly observeCall = (request: FastifyRequest): ((event: CallSessionEvent) => void) | undefined => {
    const link = this.links.get(request);
    return link ? (event) => link.publish(event) : undefined;
  };

  linkOf(request: FastifyRequest): PhoneLink | undefined {
    return this.links.get(request);
  }
}

function readAssets(log: FastifyInstance['log']): Map<string, Buffer> {
  const assets = new Map<string, Buffer>();
  for (const name of Object.keys(ASSET_TYPES)) {
    try {
      assets.set(name, readFileSync(new URL(name, PAGE_DIR)));
    } catch (error) {
      // A packaging mistake must cost the browser phone, never the Twilio calls.
      log.error({ err: error, file: name }, 'browser phone file missing; the page will not work');
    }
  }
  return assets;
}

export async function phoneRoutes(app: FastifyInstance, ctx: AppContext, phone: BrowserPhone): Promise<void> {
  const assets = readAssets(app.log);
  const sendAsset = (reply: FastifyReply, name: string) => {
    const body = assets.get(name);
    const type = ASSET_TYPES[name];
    if (!type) return sendError(reply, 'VA_NOT_FOUND');
    if (!body) return sendError(reply, 'VA_PHONE_NOT_INSTALLED');
    return reply.type(type).header('cache-control', 'no-cache').header('content-security-policy', PAGE_CSP).send(body);
  };

  app.get('/', async (_request, reply) => sendAsset(reply, 'index.html'));
  app.get<{ Params: { name: string } }>('/phone/:name', async (request, reply) => {
    const name = request.params.name;
    if (name === 'index.html') return reply.redirect('/');
    return sendAsset(reply, name);
  });

  const sessionGuard = adminGuard(ctx);

  app.post('/phone/session', { preHandler: sessionGuard }, async (request, reply) => {
    const issued = phone.tokens.issue();
    // The page connects back to the origin it was loaded from, not to PUBLIC_URL (Twilio's view).
    const base = toWebSocketUrl(publicBaseUrl(request, undefined));
    return reply.header('cache-control', 'no-store').send({
      token: issued.mediaToken,
      eventsToken: issued.eventsToken,
      expiresAt: new Date(issued.expiresAt).toISOString(),
      mediaUrl: `${base}/media`,
      eventsUrl: `${base}/phone/events`,
      subprotocol: PHONE_SUBPROTOCOL,
    });
  });

  const admitEvents = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.ws) return sendError(reply, 'VA_NOT_AN_UPGRADE');
    if (!phone.admit(request, 'events')) return sendError(reply, 'VA_BAD_PHONE_TOKEN');
  };

  app.get('/phone/events', { websocket: true, preValidation: admitEvents }, (socket, request) => {
    const link = phone.linkOf(request);
    if (!link) return socket.close(1008, 'no phone session');
    socket.on('close', () => link.detach());
    socket.on('error', (error) => request.log.warn({ err: error }, 'phone event socket error'));
    link.attach((event) => {
      if (socket.readyState !== socket.OPEN) return;
      socket.send(JSON.stringify(event));
      if (event.type === 'call-ended') socket.close(1000, 'call ended');
    });
  });
}
