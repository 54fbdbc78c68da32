/**
 * X-Twilio-Signature checks. Twilio signs the exact URL it requested plus, for form POSTs, the
 * sorted form parameters. Behind a proxy or tunnel the URL we see is not the URL Twilio used, so the
 * configured PUBLIC_URL wins. Without it, X-Forwarded-Host/Proto count only when they come from a
 * proxy named in TRUST_PROXY (Fastify's request.host/protocol apply that rule); anyone else's are
 * ignored, so a signature made for another host on the same Twilio account is not accepted here.
 */
import type { FastifyRequest } from 'fastify';
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
