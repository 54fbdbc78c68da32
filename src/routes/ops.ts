/** Health, readiness, Prometheus metrics and call records for ops. */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.js';
import { sendError } from './http-errors.js';
import { headerValue } from './twilio-signature.js';

export function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
/** Headers a proxy or tunnel adds on behalf of someone else (nginx's default setup sends X-Real-IP). */
const FORWARDING_HEADERS = ['forwarded', 'via', 'x-real-ip', 'x-client-ip', 'true-client-ip', 'cf-connecting-ip', 'fastly-client-ip'];

/**
 * Without ADMIN_TOKEN, "loopback" must really mean a person on this machine. A reverse proxy or
 * tunnel on the same host (ngrok, cloudflared, nginx: common when developing with Twilio) connects
 * from 127.0.0.1 on behalf of anyone on the internet, and a DNS-rebinding page reaches us with a
 * foreign Host; neither may read call records or mint browser-phone tokens.
 */
export function isLocalOperator(request: FastifyRequest, trustProxy: readonly string[] | undefined): boolean {
  // With a trusted proxy configured, loopback traffic is that proxy's: nobody is "local".
  if (trustProxy?.length) return false;
  if (!isLoopback(request.socket.remoteAddress)) return false;
  for (const name of Object.keys(request.headers)) {
    if (name.startsWith('x-forwarded-') || FORWARDING_HEADERS.includes(name)) return false;
  }
  const host = (headerValue(request.headers.host) ?? '').toLowerCase().replace(/:\d+$/, '');
  return LOOPBACK_HOSTS.has(host);
}

/** Bearer ADMIN_TOKEN; when no token is configured, a local operator only (see isLocalOperator). */
export function adminGuard(ctx: AppContext) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const token = ctx.config.adminToken;
    if (!token) {
      if (isLocalOperator(request, ctx.config.trustProxy)) return;
      return sendError(reply, 'VA_NOT_LOCAL');
    }
    const header = headerValue(request.headers.authorization) ?? '';
    const given = Buffer.from(header.replace(/^Bearer\s+/i, ''));
    const expected = Buffer.from(token);
    if (!header.match(/^Bearer\s+/i) || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return sendError(reply.header('www-authenticate', 'Bearer'), 'VA_BAD_BEARER');
    }
  };
}

export async function opsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const reason = ctx.calls.refusalReason();
    const counts = { activeCalls: ctx.calls.active, openSockets: ctx.calls.sockets };
    if (reason) return reply.code(503).send({ status: reason, ...counts });
    return { status: 'ready', ...counts };
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });

  app.get<{ Params: { callSid: string } }>('/calls/:callSid', { preHandler: adminGuard(ctx) }, async (request, reply) => {
    const record = await ctx.records.get(request.params.callSid);
    if (!record) return sendError(reply, 'VA_UNKNOWN_CALL');
    return record;
  });
}
