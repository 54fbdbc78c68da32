/**
 * The two IncomingPhoneNumbers calls `twilio:connect` needs, through the official SDK, with every
 * failure turned into a one-line ConnectError that says what to do. The SDK has no base-URL option:
 * pointing `client.api.baseUrl` elsewhere (TWILIO_API_URL) is what lets tests use a local fake.
 */
import twilio from 'twilio';
import { ConnectError } from './connect-error.js';

/** The voice-routing fields of an IncomingPhoneNumber that we read and show. */
export interface IncomingNumber {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  voiceUrl: string | null;
  voiceMethod: string | null;
  statusCallback: string | null;
  statusCallbackMethod: string | null;
  voiceApplicationSid: string | null;
  trunkSid: string | null;
}

export interface VoiceWiring {
  voiceUrl: string;
  voiceMethod: 'POST';
  statusCallback: string;
  statusCallbackMethod: 'POST';
  /** '' clears a TwiML App, which would otherwise take precedence over voiceUrl. */
  voiceApplicationSid?: '';
}

export interface TwilioNumbersApi {
  /** Numbers on the account whose PhoneNumber matches (Twilio filters server-side). */
  findByPhoneNumber(phoneNumber: string): Promise<IncomingNumber[]>;
  updateVoice(sid: string, wiring: VoiceWiring): Promise<IncomingNumber>;
}

export interface TwilioNumbersApiOptions {
  accountSid: string;
  authToken: string;
  apiBaseUrl: string;
  timeoutMs?: number;
}

export function createTwilioNumbersApi(options: TwilioNumbersApiOptions): TwilioNumbersApi {
  const client = twilio(options.accountSid, options.authToken, {
    // No keep-alive: a one-shot command should exit as soon as it is done. No retries: a failed
    // call is reported and the user reruns it (the update is idempotent).
    httpClient: new twilio.RequestClient({ timeout: options.timeoutMs ?? 15_000, keepAlive: false }),
    autoRetry: false,
    // Settings the SDK would otherwise read from process.env: everything comes from options.
    env: {},
    region: '',
    edge: '',
    logLevel: 'none',
  });
  client.api.baseUrl = options.apiBaseUrl;
  const fail = (error: unknown, action: string) => {
    throw toConnectError(error, action, options);
  };

  return {
    async findByPhoneNumber(phoneNumber) {
      try {
        const numbers = await client.incomingPhoneNumbers.list({ phoneNumber, limit: 20 });
        return numbers.map(toIncomingNumber);
      } catch (error) {
        return fail(error, `looking up ${phoneNumber}`);
      }
    },
    async updateVoice(sid, wiring) {
      try {
        return toIncomingNumber(await client.incomingPhoneNumbers(sid).update(wiring));
      } catch (error) {
        return fail(error, `updating ${sid}`);
      }
    },
  };
}

interface SdkIncomingNumber {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  voiceUrl: string;
  voiceMethod: string;
  statusCallback: string;
  statusCallbackMethod: string;
  voiceApplicationSid: string;
  trunkSid: string;
}

function toIncomingNumber(n: SdkIncomingNumber): IncomingNumber {
  // The SDK types these as string, but Twilio sends null for fields that were never set.
  return {
    sid: n.sid,
    phoneNumber: n.phoneNumber,
    friendlyName: n.friendlyName ?? n.phoneNumber,
    voiceUrl: n.voiceUrl ?? null,
    voiceMethod: n.voiceMethod ?? null,
    statusCallback: n.statusCallback ?? null,
    statusCallbackMethod: n.statusCallbackMethod ?? null,
    voiceApplicationSid: n.voiceApplicationSid ?? null,
    trunkSid: n.trunkSid ?? null,
  };
}

/** Maps SDK failures (RestException with an HTTP status, or a network error) to what to do next. */
export function toConnectError(error: unknown, action: string, options: Pick<TwilioNumbersApiOptions, 'accountSid' | 'apiBaseUrl'>): ConnectError {
  const field = (name: string): unknown => (typeof error === 'object' && error !== null && name in error ? (error as Record<string, unknown>)[name] : undefined);
  const status = field('status');
  const code = field('code');
  const message = field('message');
  if (status === 401) {
    return new ConnectError(
      `Twilio rejected the credentials (HTTP 401): check TWILIO_ACCOUNT_SID (${options.accountSid}) and TWILIO_AUTH_TOKEN in the Twilio console`,
    );
  }
  if (status === 403) {
    return new ConnectError(`Twilio refused ${action} (HTTP 403${code ? `, error ${String(code)}` : ''}): the credentials lack permission for this account`);
  }
  if (typeof status === 'number') {
    return new ConnectError(`Twilio answered HTTP ${status}${code ? ` (error ${String(code)})` : ''} while ${action}: ${String(message ?? 'no message')}`);
  }
  // Network failures come from axios with a Node error code (ECONNREFUSED, ENOTFOUND, ECONNABORTED).
  return new ConnectError(
    `could not reach the Twilio API at ${options.apiBaseUrl} while ${action} (${String(code ?? message ?? error)}): check the network, or unset TWILIO_API_URL`,
  );
}
