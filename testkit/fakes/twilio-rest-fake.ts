/**
 * A stand-in for the two api.twilio.com endpoints `twilio:connect` uses, on 127.0.0.1:
 *   GET  /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json?PhoneNumber=…
 *   POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{PNsid}.json
 * It keeps real state (numbers per account), checks HTTP basic auth like Twilio does, and answers
 * with Twilio-shaped JSON (snake_case resources, list envelopes, `{code, message, more_info, status}`
 * errors), so the SDK's own parsing and error mapping run as they would against the real API.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './http-body.js';

export interface FakeIncomingNumber {
  sid: string;
  account_sid: string;
  phone_number: string;
  friendly_name: string;
  voice_url: string | null;
  voice_method: string;
  status_callback: string;
  status_callback_method: string;
  voice_application_sid: string;
  trunk_sid: string | null;
}

export interface RecordedTwilioRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  form: Record<string, string>;
}

/** The form fields of an IncomingPhoneNumber update this fake understands → resource fields. */
const UPDATABLE_FIELDS = {
  VoiceUrl: 'voice_url',
  VoiceMethod: 'voice_method',
  StatusCallback: 'status_callback',
  StatusCallbackMethod: 'status_callback_method',
  VoiceApplicationSid: 'voice_application_sid',
  FriendlyName: 'friendly_name',
} as const satisfies Record<string, keyof FakeIncomingNumber>;

const LIST_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/IncomingPhoneNumbers\.json$/;
const INSTANCE_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/IncomingPhoneNumbers\/(PN[0-9a-f]{32})\.json$/;

export class TwilioRestFake {
  /** Every request that passed authentication, in order. */
  readonly requests: RecordedTwilioRequest[] = [];
  private readonly authTokens = new Map<string, string>();
  private readonly numbers = new Map<string, FakeIncomingNumber>();
  private readonly server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      void readBody(request)
        .then((body) => this.handle(request, body, response))
        .catch((error: unknown) => sendError(response, 500, 20500, `fake failed: ${String(error)}`));
    });
  }

  addAccount(accountSid: string, authToken: string): void {
    this.authTokens.set(accountSid, authToken);
  }

  /** Adds a number to an account; unspecified voice settings start as Twilio's defaults. */
  addNumber(fields: Pick<FakeIncomingNumber, 'sid' | 'account_sid' | 'phone_number'> & Partial<FakeIncomingNumber>): FakeIncomingNumber {
    const number: FakeIncomingNumber = {
      friendly_name: fields.phone_number,
      voice_url: null,
      voice_method: 'POST',
      status_callback: '',
      status_callback_method: 'POST',
      voice_application_sid: '',
      trunk_sid: null,
      ...fields,
    };
    this.numbers.set(number.sid, number);
    return number;
  }

  number(sid: string): FakeIncomingNumber | undefined {
    const number = this.numbers.get(sid);
    return number && { ...number };
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, body: string, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://fake');
    const accountSid = (LIST_PATH.exec(url.pathname) ?? INSTANCE_PATH.exec(url.pathname))?.[1];
    // Twilio answers 401 for any credentials that do not belong to the account in the path.
    if (!accountSid || !this.authorized(request, accountSid)) {
      response.setHeader('WWW-Authenticate', 'Basic realm="Twilio API"');
      return sendError(response, 401, 20003, 'Authenticate', 'Your AccountSid or AuthToken was incorrect.');
    }
    const form = Object.fromEntries(new URLSearchParams(body));
    this.requests.push({ method: request.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), form });

    if (request.method === 'GET' && LIST_PATH.test(url.pathname)) return this.list(url, accountSid, response);
    const instanceSid = INSTANCE_PATH.exec(url.pathname)?.[2];
    if (request.method === 'POST' && instanceSid) return this.update(url, accountSid, instanceSid, form, response);
    return sendError(response, 405, 20004, 'Method not allowed');
  }

  private authorized(request: IncomingMessage, accountSid: string): boolean {
    const header = request.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    const [username, password] = [decoded.slice(0, separator), decoded.slice(separator + 1)];
    return username === accountSid && this.authTokens.get(accountSid) === password;
  }

  private list(url: URL, accountSid: string, response: ServerResponse): void {
    const phoneNumber = url.searchParams.get('PhoneNumber');
    const pageSize = Number(url.searchParams.get('PageSize') ?? 50);
    const matches = [...this.numbers.values()].filter(
      (n) => n.account_sid === accountSid && (phoneNumber === null || n.phone_number === phoneNumber),
    );
    const uri = `${url.pathname}${url.search}`;
    sendJson(response, 200, {
      first_page_uri: uri,
      end: Math.max(matches.length - 1, 0),
      previous_page_uri: null,
      incoming_phone_numbers: matches.map(toResource),
      uri,
      page_size: pageSize,
      start: 0,
      next_page_uri: null,
      page: 0,
    });
  }

  private update(url: URL, accountSid: string, sid: string, form: Record<string, string>, response: ServerResponse): void {
    const number = this.numbers.get(sid);
    if (!number || number.account_sid !== accountSid) {
      return sendError(response, 404, 20404, `The requested resource ${url.pathname} was not found`);
    }
    for (const [field, resourceField] of Object.entries(UPDATABLE_FIELDS)) {
      const value = form[field];
      if (value === undefined) continue;
      if ((field === 'VoiceUrl' || field === 'StatusCallback') && value !== '' && !isHttpUrl(value)) {
        return sendError(response, 400, 21502, `${field} is not valid`);
      }
      number[resourceField] = value;
    }
    sendJson(response, 200, toResource(number));
  }
}

/** The resource as Twilio serializes it (a subset of its fields, plus the usual bookkeeping). */
function toResource(number: FakeIncomingNumber): Record<string, unknown> {
  return {
    ...number,
    api_version: '2010-04-01',
    capabilities: { voice: true, sms: true, mms: true, fax: false },
    status: 'in-use',
    voice_fallback_url: null,
    voice_fallback_method: 'POST',
    uri: `/2010-04-01/Accounts/${number.account_sid}/IncomingPhoneNumbers/${number.sid}.json`,
  };
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

function sendError(response: ServerResponse, status: number, code: number, message: string, detail?: string): void {
  sendJson(response, status, { code, message, ...(detail && { detail }), more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

