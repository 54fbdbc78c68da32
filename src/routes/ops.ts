/** Health, readiness, Prometheus metrics and call records for ops. */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.js';
import { z } from 'zod';
import { sendError } from './http-errors.js';
import { headerValue } from './twilio-signature.js';

/** POST /calls/:sid/transfer body: an E.164 number or a SIP address; absent → TRANSFER_NUMBER. */
const transferBody = z.object({ to: z.string().regex(/^(\+[1-9]\d{6,14}|sips?:[^\s<>"]{3,200})$/).optional() }).strict();

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
    const reason = ctx.calls.refusalReason() ?? (ctx.loopDelay.tooSlow ? 'event-loop-slow' : null);
    const counts = { activeCalls: ctx.calls.active, openSockets: ctx.calls.sockets, loopDelayP99Ms: ctx.loopDelay.p99Ms };
    if (reason) return reply.code(503).send({ status: reason, ...counts });
    return { status: 'ready', ...counts };
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });

  // Live calls across every worker sharing the store (the contract asks for ?active=1; live calls
  // are all this lists, records of finished calls are read one at a time).
  app.get<{ Querystring: { active?: string } }>('/calls', { preHandler: adminGuard(ctx) }, async (request, reply) => {
    if (request.query.active !== '1') return reply.code(400).send({ error: 'only ?active=1 is supported: GET /calls/:callSid for one record' });
    const calls = await ctx.store.liveCalls.list();
    return {
      calls: calls.map((c) => ({ callSid: c.callSid, worker: c.workerId, machine: c.machine, startedAt: c.startedAt, state: c.state })),
    };
  });

  app.post<{ Params: { callSid: string } }>('/calls/:callSid/hangup', { preHandler: adminGuard(ctx) }, async (request, reply) => {
    const outcome = await ctx.control.hangup(request.params.callSid);
    if (!outcome.accepted) return reply.code(404).send({ error: 'call is not live' });
    request.log.info({ callSid: request.params.callSid, via: outcome.via }, 'ops hang-up');
    return reply.code(202).send({ status: 'accepted', via: outcome.via });
  });

  app.post<{ Params: { callSid: string } }>('/calls/:callSid/transfer', { preHandler: adminGuard(ctx) }, async (request, reply) => {
    const body = transferBody.safeParse(request.body ?? {});
    if (!body.success) return reply.code(400).send({ error: 'expected {"to": "+15551234567" | "sip:…"} or no body' });
    const outcome = await ctx.control.transfer(request.params.callSid, body.data.to);
    if (!outcome.accepted) {
      if (outcome.reason === 'no-transfer-number') return reply.code(400).send({ error: 'no "to" given and no TRANSFER_NUMBER configured' });
      return reply.code(404).send({ error: 'call is not live' });
    }
    request.log.info({ callSid: request.params.callSid, via: outcome.via }, 'ops transfer');
    return reply.code(202).send({ status: 'accepted', via: outcome.via });
  });

  app.get<{ Params: { callSid: string } }>('/calls/:callSid', { preHandler: adminGuard(ctx) }, async (request, reply) => {
    const record = await ctx.records.get(request.params.callSid);
    if (!record) return sendError(reply, 'VA_UNKNOWN_CALL');
    return record;
  });
}
