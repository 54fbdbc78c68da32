/**
 * `transfer_to_person`: redirects the live call to the clinic's front desk by replacing its TwiML
 * with a `<Dial>` through Twilio's REST API (`calls(sid).update({ twiml })`). That ends the media
 * stream, so the agent should have said its goodbye before this runs.
 */
import twilio from 'twilio';
import type * as TwilioResponseModule from 'twilio/lib/http/response.js';
import type { z } from 'zod';
import { transferToPersonInput } from './calendar-schemas.js';
import type { Tool } from './tool.js';
import { ToolError } from './tool-error.js';

export interface TransferOptions {
  accountSid?: string | undefined;
  authToken?: string | undefined;
  /** Replaces `https://api.twilio.com` (the TWILIO_API_URL override); tests point it at a fake. */
  apiBaseUrl?: string | undefined;
  /** Number (or SIP address) to dial, e.g. +15551234567. */
  transferNumber?: string | undefined;
  /** Twilio region/edge, if the account is pinned to one. */
  region?: string | undefined;
  edge?: string | undefined;
  timeoutMs?: number | undefined;
}

export type TransferResult = { transferred: true } | { transferred: false; reason: 'not-configured' };

type TransferArgs = z.infer<typeof transferToPersonInput>;
type TwilioHttpClient = twilio.RequestClient;
type TwilioRequest = Parameters<TwilioHttpClient['request']>[0];

export function createTransferTool(options: TransferOptions): Tool<TransferArgs, TransferResult> {
  return {
    name: 'transfer_to_person',
    description: 'Transfer the call to a person at the clinic. Say that you are transferring before calling it.',
    input: transferToPersonInput,
    timeoutMs: options.timeoutMs ?? 5000,
    async run(_args, { signal, callSid }) {
      signal.throwIfAborted();
      const { accountSid, authToken, transferNumber } = options;
      if (!accountSid || !authToken || !transferNumber) return { transferred: false, reason: 'not-configured' };
      if (!callSid) throw new ToolError('no-call', 'there is no live call to transfer');

      const response = new twilio.twiml.VoiceResponse();
      response.dial(transferNumber);
      const client = twilio(accountSid, authToken, {
        httpClient: abortableHttpClient(signal),
        // Settings the SDK would otherwise read from process.env: config comes from options only.
        env: {},
        region: options.region ?? '',
        edge: options.edge ?? '',
        logLevel: 'none',
      });
      if (options.apiBaseUrl) client.api.baseUrl = options.apiBaseUrl;
      try {
        await client.calls(callSid).update({ twiml: response.toString() });
        return { transferred: true };
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw toToolError(error);
      }
    },
  };
}

function toToolError(error: unknown): ToolError {
  const status = typeof error === 'object' && error !== null && 'status' in error ? error.status : undefined;
  if (status === 404) return new ToolError('call-not-found', 'the call has already ended', { cause: error });
  if (typeof status === 'number') {
    return new ToolError('transfer-failed', `Twilio refused the transfer (HTTP ${status})`, { cause: error });
  }
  return new ToolError('transfer-failed', 'could not reach Twilio', { cause: error });
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
