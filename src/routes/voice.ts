/**
 * Twilio voice webhooks: the incoming-call webhook answers TwiML that opens a bidirectional media
 * stream; the status callback records stream and call events. Both are signature-checked on the raw
 * form parameters when TWILIO_AUTH_TOKEN is set.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import twilio from 'twilio';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { sendError } from './http-errors.js';
import { STREAM_TICKET_PARAMETER } from './stream-ticket.js';
import { headerValue, publicBaseUrl, toWebSocketUrl, validSignature } from './twilio-signature.js';

const incomingCallSchema = z.object({ CallSid: z.string().min(1), From: z.string().optional(), To: z.string().optional() }).loose();
const statusSchema = z
  .object({
    CallSid: z.string().min(1),
    StreamSid: z.string().optional(),
    StreamEvent: z.string().optional(),
    StreamError: z.string().optional(),
    CallStatus: z.string().optional(),
    Timestamp: z.string().optional(),
  })
  .loose();

/** Which fields were wrong, never their values (the body is unauthenticated when no token is set). */
function issuePaths(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.slice(0, 5).map((issue) => `${issue.path.join('.').slice(0, 64)}: ${issue.code}`);
}

export async function voiceRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Twilio signs the form parameters exactly as sent: keep them as a flat string map, untrimmed.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    const params: Record<string, string> = {};
    for (const [key, value] of new URLSearchParams(body as string)) params[key] = value;
    done(null, params);
  });

  const checkSignature = async (request: FastifyRequest, reply: FastifyReply) => {
    const token = ctx.config.twilio.authToken;
    if (!token) return;
    const url = publicBaseUrl(request, ctx.config.publicUrl) + request.url;
    const params = (request.body ?? {}) as Record<string, string>;
    if (!validSignature(token, headerValue(request.headers['x-twilio-signature']), url, params)) {
      ctx.metrics.signatureRejections.inc({ route: request.routeOptions.url ?? 'unknown' });
      // Neither the URL nor the body is logged: both are the unauthenticated sender's.
      request.log.warn({ route: request.routeOptions.url }, 'rejected webhook: bad or missing X-Twilio-Signature');
      return sendError(reply, 'VA_BAD_SIGNATURE');
    }
  };

  app.post('/voice', { preHandler: checkSignature }, async (request, reply) => {
    const parsed = incomingCallSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      request.log.warn({ issues: issuePaths(parsed.error.issues) }, 'malformed incoming-call webhook');
      return sendError(reply, 'VA_BAD_INCOMING_CALL');
    }
    const { CallSid: callSid, From: from = '', To: to = '' } = parsed.data;
    const refusal = ctx.calls.refusalReason();
    if (refusal) {
      ctx.metrics.callsRejected.inc({ reason: refusal });
      request.log.warn({ callSid, reason: refusal }, 'refusing incoming call');
    } else {
      request.log.info({ callSid }, 'incoming call: opening media stream');
    }
    const base = publicBaseUrl(request, ctx.config.publicUrl);
    const response = refusal ? busyTwiml(ctx.agent.prompts.busy) : streamTwiml(base, { callSid, from, to }, ctx.tickets.issue({ callSid, from, to }));
    return reply.type('text/xml').send(response.toString());
  });

  app.post('/voice/status', { preHandler: checkSignature }, async (request, reply) => {
    const parsed = statusSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      request.log.warn({ issues: issuePaths(parsed.error.issues) }, 'malformed status callback');
      return sendError(reply, 'VA_BAD_STATUS_CALLBACK');
    }
    const s = parsed.data;
    const event = s.StreamEvent ?? (s.CallStatus ? `call-${s.CallStatus}` : 'unknown');
    const log = s.StreamError || event === 'stream-error' ? request.log.error.bind(request.log) : request.log.info.bind(request.log);
    log({ callSid: s.CallSid, streamSid: s.StreamSid, event, streamError: s.StreamError }, 'twilio status callback');
    await ctx.calls.noteStreamEvent(s.CallSid, { event, ...(s.StreamError ? { error: s.StreamError } : {}), at: s.Timestamp ?? new Date().toISOString() });
    return reply.code(204).send();
  });
}

/** At capacity or draining: say so and hang up (Twilio plays it before ending the call). */
function busyTwiml(busyPrompt: string): twilio.twiml.VoiceResponse {
  const response = new twilio.twiml.VoiceResponse();
  response.say(busyPrompt);
  response.hangup();
  return response;
}

/** <Connect><Stream> to our /media with the call's identity and its stream ticket as parameters. */
function streamTwiml(base: string, call: { callSid: string; from: string; to: string }, ticket: string): twilio.twiml.VoiceResponse {
  const response = new twilio.twiml.VoiceResponse();
  const stream = response.connect().stream({
    url: `${toWebSocketUrl(base)}/media`,
    statusCallback: `${base}/voice/status`,
    statusCallbackMethod: 'POST',
  });
  stream.parameter({ name: 'callSid', value: call.callSid });
  stream.parameter({ name: 'from', value: call.from });
  stream.parameter({ name: 'to', value: call.to });
  // Binds the stream to this webhook: /media refuses a start without it (stream-ticket.ts).
  stream.parameter({ name: STREAM_TICKET_PARAMETER, value: ticket });
  // Reached when our side closes the stream: hang up rather than leave the caller in silence.
  response.hangup();
  return response;
}
