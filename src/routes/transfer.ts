/**
 * Warm-transfer webhooks (Twilio → us, signature-checked like /voice) and the callback list for
 * ops (same auth as /calls). The routes only parse and answer; src/transfer/warm-transfer.ts
 * decides, from the store, so any worker can take any callback.
 *
 *   POST /transfer/:id/whisper     person's leg answered → summary + "press 1" (TwiML)
 *   POST /transfer/:id/accept      their key (Digits; empty on timeout) → join or decline (TwiML)
 *   POST /transfer/:id/person      person's leg status callback (CallStatus)
 *   POST /transfer/:id/conference  conference status callback (StatusCallbackEvent, CallSid)
 *   GET  /callbacks[?status=open|done&limit=N]     callback requests
 *   POST /callbacks/:id/done       mark one handled
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import twilio from 'twilio';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { adminGuard } from './ops.js';
import { addTwilioFormParser, twilioSignatureGuard } from './twilio-signature.js';

const attemptParams = z.object({ id: z.uuid() });
const acceptSchema = z.object({ Digits: z.string().max(10).optional() }).loose();
const personSchema = z.object({ CallSid: z.string().min(1), CallStatus: z.string().min(1) }).loose();
const conferenceSchema = z.object({ StatusCallbackEvent: z.string().min(1), CallSid: z.string().optional() }).loose();
const listQuery = z.object({ status: z.enum(['open', 'done']).optional(), limit: z.coerce.number().int().min(1).max(1000).optional() });

export async function transferRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  addTwilioFormParser(app);
  const signed = twilioSignatureGuard({
    authToken: ctx.config.twilio.authToken,
    publicUrl: ctx.config.publicUrl,
    onReject: (route) => ctx.metrics.signatureRejections.inc({ route }),
  });

  /** Parses params and body; answers 400/404 itself and returns null when it did. */
  const parse = <T>(reply: FastifyReply, params: unknown, schema: z.ZodType<T>, body: unknown): { id: string; body: T } | null => {
    const id = attemptParams.safeParse(params);
    const parsed = schema.safeParse(body ?? {});
    if (!id.success || !parsed.success) {
      void reply.code(400).send({ error: 'malformed transfer callback' });
      return null;
    }
    if (!ctx.transfer) {
      void reply.code(404).send({ error: 'warm transfer is not enabled' });
      return null;
    }
    return { id: id.data.id, body: parsed.data };
  };

  app.post('/transfer/:id/whisper', { preHandler: signed }, async (request, reply) => {
    const input = parse(reply, request.params, z.object({}).loose(), request.body);
    if (!input) return reply;
    // No live attempt (caller gone, already decided): the person hears nothing and the leg ends.
    const twiml = (await ctx.transfer!.whisper(input.id)) ?? new twilio.twiml.VoiceResponse().hangup().toString();
    return reply.type('text/xml').send(twiml);
  });

  app.post('/transfer/:id/accept', { preHandler: signed }, async (request, reply) => {
    const input = parse(reply, request.params, acceptSchema, request.body);
    if (!input) return reply;
    return reply.type('text/xml').send(await ctx.transfer!.accept(input.id, (input.body.Digits ?? '').trim()));
  });

  app.post('/transfer/:id/person', { preHandler: signed }, async (request, reply) => {
    const input = parse(reply, request.params, personSchema, request.body);
    if (!input) return reply;
    await ctx.transfer!.personStatus(input.id, input.body.CallStatus);
    return reply.code(204).send();
  });

  app.post('/transfer/:id/conference', { preHandler: signed }, async (request, reply) => {
    const input = parse(reply, request.params, conferenceSchema, request.body);
    if (!input) return reply;
    await ctx.transfer!.conferenceEvent(input.id, input.body.StatusCallbackEvent, input.body.CallSid);
    return reply.code(204).send();
  });

  app.get('/callbacks', { preHandler: adminGuard(ctx) }, async (request, reply) => {
    const query = listQuery.safeParse(request.query ?? {});
    if (!query.success) return reply.code(400).send({ error: 'status must be open or done; limit 1–1000' });
    if (!ctx.transferStore) return { callbacks: [] };
    return { callbacks: await ctx.transferStore.callbacks(query.data) };
  });

  app.post<{ Params: { id: string } }>('/callbacks/:id/done', { preHandler: adminGuard(ctx) }, async (request, reply) => {
    if (!ctx.transferStore || !(await ctx.transferStore.setCallbackStatus(request.params.id, 'done'))) {
      return reply.code(404).send({ error: 'no such callback request' });
    }
    return reply.code(204).send();
  });
}
