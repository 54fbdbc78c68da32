/** Health, readiness, Prometheus metrics and call records for ops. */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.js';
import { headerValue } from './twilio-signature.js';

export function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Without ADMIN_TOKEN, "loopback" must really mean a person on this machine. A reverse proxy or
 * tunnel on the same host (ngrok, cloudflared, nginx: common when developing with Twilio) connects
 * from 127.0.0.1 on behalf of anyone on the internet, and a DNS-rebinding page reaches us with a
 * foreign Host; neither may read call records or mint browser-phone tokens.
 */
export function isLocalOperator(request: FastifyRequest): boolean {
  if (!isLoopback(request.socket.remoteAddress)) return false;
  if (request.headers['x-forwarded-for'] || request.headers['x-forwarded-host'] || request.headers.forwarded) return false;
  return LOOPBACK_HOSTS.has(request.hostname.toLowerCase());
}

/** Bearer ADMIN_TOKEN; when no token is configured, a local operator only (see isLocalOperator). */
export function adminGuard(ctx: AppContext) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const token = ctx.config.adminToken;
    if (!token) {
      if (isLocalOperator(request)) return;
      return reply.code(403).send({
        error: 'without ADMIN_TOKEN, ops endpoints answer only to loopback callers not behind a proxy or tunnel',
      });
    }
    const header = headerValue(request.headers.authorization) ?? '';
    const given = Buffer.from(header.replace(/^Bearer\s+/i, ''));
    const expected = Buffer.from(token);
    if (!header.match(/^Bearer\s+/i) || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or wrong bearer token' });
    }
  };
}

export async function opsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const reason = ctx.calls.refusalReason();
    if (reason) return reply.code(503).send({ status: reason, activeCalls: ctx.calls.active });
    return { status: 'ready', activeCalls: ctx.calls.active };
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });

  app.get<{ Params: { callSid: string } }>('/calls/:callSid', { preHandler: adminGuard(ctx) }, async (request, reply) => {
    const record = await ctx.records.get(request.params.callSid);
    if (!record) return reply.code(404).send({ error: 'unknown call' });
    return record;
  });
}
