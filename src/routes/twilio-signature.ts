/**
 * X-Twilio-Signature checks. Twilio signs the exact URL it requested plus, for form POSTs, the
 * sorted form parameters. Behind a proxy or tunnel the URL we see is not the URL Twilio used, so the
 * configured PUBLIC_URL wins. Without it, X-Forwarded-Host/Proto count only when they come from a
 * proxy named in TRUST_PROXY (Fastify's request.host/protocol apply that rule); anyone else's are
 * ignored, so a signature made for another host on the same Twilio account is not accepted here.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import twilio from 'twilio';

/** Base URL (scheme://host[:port]) Twilio used to reach us. */
export function publicBaseUrl(request: FastifyRequest, configured: string | undefined): string {
  if (configured) return configured;
  return `${request.protocol}://${request.host || 'localhost'}`;
}

/** The `wss://` form of a public base URL (the media stream's scheme). */
export function toWebSocketUrl(base: string): string {
  return base.replace(/^http(s?):/i, (_m, s: string) => `ws${s}:`);
}

export function validSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: Record<string, string>,
): boolean {
  if (!signature) return false;
  try {
    return twilio.validateRequest(authToken, signature, url, params);
  } catch {
    return false;
  }
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Twilio signs the form parameters exactly as sent: parse `application/x-www-form-urlencoded` into
 * a flat string map, untrimmed. Content-type parsers are per plugin scope, so each route plugin
 * that takes Twilio webhooks registers this.
 */
export function addTwilioFormParser(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    const params: Record<string, string> = {};
    for (const [key, value] of new URLSearchParams(body as string)) params[key] = value;
    done(null, params);
  });
}

export interface SignatureGuardOptions {
  authToken: string | undefined;
  publicUrl: string | undefined;
  /** Counted per route when a request is refused. */
  onReject?: (route: string) => void;
}

/** preHandler: 403 unless X-Twilio-Signature matches the public URL and the form parameters (no token = development mode). */
export function twilioSignatureGuard(options: SignatureGuardOptions) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!options.authToken) return;
    const url = publicBaseUrl(request, options.publicUrl) + request.url;
    const params = (request.body ?? {}) as Record<string, string>;
    if (!validSignature(options.authToken, headerValue(request.headers['x-twilio-signature']), url, params)) {
      options.onReject?.(request.routeOptions.url ?? 'unknown');
      request.log.warn({ url }, 'rejected webhook: bad or missing X-Twilio-Signature');
      return reply.code(403).send({ error: 'invalid signature' });
    }
  };
}
