/**
 * X-Twilio-Signature checks. Twilio signs the exact URL it requested plus, for form POSTs, the
 * sorted form parameters. Behind a proxy or tunnel the URL we see is not the URL Twilio used, so the
 * configured PUBLIC_URL wins; only without it do we trust Host and X-Forwarded-Proto.
 */
import type { FastifyRequest } from 'fastify';
import twilio from 'twilio';

/** Base URL (scheme://host[:port]) Twilio used to reach us. */
export function publicBaseUrl(request: FastifyRequest, configured: string | undefined): string {
  if (configured) return configured;
  const forwarded = headerValue(request.headers['x-forwarded-proto'])?.split(',')[0]?.trim();
  const proto = forwarded || request.protocol;
  const host = headerValue(request.headers['x-forwarded-host'])?.split(',')[0]?.trim() || request.headers.host || 'localhost';
  return `${proto}://${host}`;
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
