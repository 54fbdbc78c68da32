/**
 * One way to build a Twilio REST client here: credentials from config only (never the SDK's own
 * process.env lookups), the API base URL overridable for the local fake (TWILIO_API_URL), and
 * every request cancellable through an AbortSignal.
 */
import twilio from 'twilio';
import type * as TwilioResponseModule from 'twilio/lib/http/response.js';

export interface TwilioRestOptions {
  accountSid: string;
  authToken: string;
  /** Replaces `https://api.twilio.com` (the TWILIO_API_URL override); tests point it at a fake. */
  apiBaseUrl?: string | undefined;
  region?: string | undefined;
  edge?: string | undefined;
}

type TwilioHttpClient = twilio.RequestClient;
type TwilioRequest = Parameters<TwilioHttpClient['request']>[0];

export function twilioRestClient(options: TwilioRestOptions, signal: AbortSignal): twilio.Twilio {
  const client = twilio(options.accountSid, options.authToken, {
    httpClient: abortableHttpClient(signal),
    // Settings the SDK would otherwise read from process.env: config comes from options only.
    env: {},
    region: options.region ?? '',
    edge: options.edge ?? '',
    logLevel: 'none',
  });
  if (options.apiBaseUrl) client.api.baseUrl = options.apiBaseUrl;
  return client;
}

/** Twilio's REST error status (404 = the call is gone), if `error` is one. */
export function restStatus(error: unknown): number | undefined {
  const status = typeof error === 'object' && error !== null && 'status' in error ? error.status : undefined;
  return typeof status === 'number' ? status : undefined;
}

/**
 * A stand-in for the SDK's axios-based RequestClient, which takes no AbortSignal: this one uses
 * fetch with the tool's signal, so a barge-in or timeout really cancels the HTTP request. Only
 * `request` is used by the SDK for plain REST calls; the cast covers the fields it never reads.
 */
function abortableHttpClient(signal: AbortSignal): TwilioHttpClient {
  const client: Pick<TwilioHttpClient, 'request'> = {
    async request<TData>(opts: TwilioRequest): Promise<TwilioResponseModule.default<TData>> {
      const url = new URL(opts.uri);
      for (const [key, value] of formPairs(opts.params)) url.searchParams.append(key, value);
      const headers = new Headers(opts.headers as Record<string, string> | undefined);
      if (opts.username && opts.password) {
        headers.set('Authorization', `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`);
      }
      const body = opts.data === undefined ? undefined : new URLSearchParams(formPairs(opts.data)).toString();
      const response = await fetch(url, {
        method: opts.method.toUpperCase(),
        headers,
        body,
        signal,
        redirect: opts.allowRedirects ? 'follow' : 'manual',
      });
      // The SDK parses a string body as JSON itself (and reads error bodies from it).
      const text = (await response.text()) as TData;
      return { statusCode: response.status, body: text, headers: Object.fromEntries(response.headers) };
    },
  };
  return client as TwilioHttpClient;
}

/** Twilio form encoding: one pair per array element ("repeat"), undefined values left out. */
function formPairs(data: unknown): [string, string][] {
  if (typeof data !== 'object' || data === null) return [];
  const pairs: [string, string][] = [];
  for (const [key, value] of Object.entries(data)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null) pairs.push([key, String(item)]);
    }
  }
  return pairs;
}
