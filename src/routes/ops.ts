/** Health, readiness, Prometheus metrics and call records for ops. */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.js';
import { headerValue } from './twilio-signature.js';

export function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

/** Bearer ADMIN_TOKEN; when no token is configured, loopback callers only. */
export function adminGuard(ctx: AppContext) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const token = ctx.config.adminToken;
    if (!token) {
      if (isLoopback(request.socket.remoteAddress)) return;
      return reply.code(403).send({ error: 'ops endpoints answer only on loopback when ADMIN_TOKEN is unset' });
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
