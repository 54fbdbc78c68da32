/**
 * The voice-call side of the Twilio REST fake: Calls (create, update with TwiML or status) and
 * the Conferences their TwiML puts them in, with the status callbacks Twilio would send, signed
 * with X-Twilio-Signature and POSTed as forms to the URLs the TwiML named. Tests play the people:
 * `answer`, `press`, `gatherTimeout`, `noAnswer`, `busy`, `hangUp`.
 *
 *   POST /2010-04-01/Accounts/{AC}/Calls.json              To, From, Url, StatusCallback, Timeout
 *   POST /2010-04-01/Accounts/{AC}/Calls/{CA}.json         Twiml | Status=canceled|completed
 *   GET  /2010-04-01/Accounts/{AC}/Conferences.json        FriendlyName, Status
 *   GET  /2010-04-01/Accounts/{AC}/Conferences/{CF}/Participants.json
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import twilio from 'twilio';

export interface FakeCall {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  direction: 'inbound' | 'outbound-api';
  status: 'queued' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer' | 'canceled' | 'failed';
  url: string | null;
  statusCallback: string | null;
  /** The TwiML the call is running now (last update, or the answer URL's reply). */
  twiml: string;
  /** The conference the call sits in, if any. */
  conference: string | null;
  /** `<Gather action>` of the current TwiML, for `press`. */
  gatherAction: string | null;
  /** `<Parameter>`s of the `<Connect><Stream>` the current TwiML opens, if any. */
  stream: { url: string; parameters: Record<string, string> } | null;
}

interface FakeConference {
  sid: string;
  name: string;
  statusCallback: string | null;
  events: string[];
  participants: Set<string>;
  status: 'init' | 'in-progress' | 'completed';
}

export interface DeliveredCallback {
  url: string;
  params: Record<string, string>;
  status: number;
  body: string;
}

const sid = (prefix: string) => prefix + randomBytes(16).toString('hex');

export class TwilioCallsFake {
  readonly calls = new Map<string, FakeCall>();
  readonly conferences = new Map<string, FakeConference>();
  /** Every callback we sent, with the app's answer, in order. */
  readonly delivered: DeliveredCallback[] = [];

  constructor(private readonly authTokenOf: (accountSid: string) => string | undefined) {}

  /** A live inbound call (the caller on a media stream). */
  addInboundCall(callSid: string, accountSid: string, from: string, to: string): FakeCall {
    const call: FakeCall = { sid: callSid, accountSid, from, to, direction: 'inbound', status: 'in-progress', url: null, statusCallback: null, twiml: '', conference: null, gatherAction: null, stream: null };
    this.calls.set(callSid, call);
    return call;
  }

  /** Routes a REST request; false when the path is not one of ours. */
  async handle(method: string, path: string, accountSid: string, form: Record<string, string>, url: URL, response: ServerResponse): Promise<boolean> {
    const base = `/2010-04-01/Accounts/${accountSid}`;
    const callPath = new RegExp(`^${base}/Calls/(CA[0-9a-f]{32})\\.json$`).exec(path);
    if (method === 'POST' && path === `${base}/Calls.json`) return this.create(accountSid, form, response), true;
    if (method === 'POST' && callPath) return await this.update(callPath[1]!, accountSid, form, response), true;
    if (method === 'GET' && path === `${base}/Conferences.json`) {
      const name = url.searchParams.get('FriendlyName');
      const list = [...this.conferences.values()].filter((c) => name === null || c.name === name);
      return sendJson(response, 200, { conferences: list.map(conferenceResource), page: 0, page_size: 50, next_page_uri: null, uri: path }), true;
    }
    return false;
  }

  private create(accountSid: string, form: Record<string, string>, response: ServerResponse): void {
    if (!form.To || !form.From || !(form.Url || form.Twiml)) return sendError(response, 400, 21205, 'To, From and Url are required');
    const call: FakeCall = {
      sid: sid('CA'),
      accountSid,
      from: form.From,
      to: form.To,
      direction: 'outbound-api',
      status: 'queued',
      url: form.Url ?? null,
      statusCallback: form.StatusCallback ?? null,
      twiml: form.Twiml ?? '',
      conference: null,
      gatherAction: null,
      stream: null,
    };
    this.calls.set(call.sid, call);
    sendJson(response, 201, callResource(call));
  }

  private async update(callSid: string, accountSid: string, form: Record<string, string>, response: ServerResponse): Promise<void> {
    const call = this.calls.get(callSid);
    if (!call || call.accountSid !== accountSid) return sendError(response, 404, 20404, `The requested resource /Calls/${callSid}.json was not found`);
    const ended = ['completed', 'busy', 'no-answer', 'canceled', 'failed'].includes(call.status);
    if (form.Status) {
      if (ended) return sendJson(response, 200, callResource(call));
      // `canceled` only applies to calls not yet answered; `completed` hangs up a live one.
      if (form.Status === 'canceled' && call.status === 'in-progress') return sendError(response, 400, 21220, 'Call is not in-progress. Cannot redirect.');
      sendJson(response, 200, callResource(call));
      await this.end(call, form.Status === 'canceled' ? 'canceled' : 'completed');
      return;
    }
    if (ended) return sendError(response, 400, 21220, 'Call is not in-progress. Cannot redirect.');
    if (!form.Twiml) return sendError(response, 400, 20001, 'Twiml, Url or Status is required');
    sendJson(response, 200, callResource(call));
    await this.run(call, form.Twiml);
  }

  /** The call starts executing `twiml`: leaves its conference (if any), joins a new one, opens a stream, hangs up. */
  private async run(call: FakeCall, twiml: string): Promise<void> {
    const previous = call.conference;
    call.twiml = twiml;
    call.gatherAction = attr(tag(twiml, 'Gather'), 'action');
    call.stream = null;
    const conference = /<Conference([^>]*)>([^<]+)<\/Conference>/.exec(twiml);
    if (previous && previous !== conference?.[2]) await this.leave(call, previous);
    if (conference) await this.join(call, conference[2]!, conference[1]!);
    const stream = tag(twiml, 'Stream');
    if (stream) {
      const parameters: Record<string, string> = {};
      for (const m of twiml.matchAll(/<Parameter name="([^"]*)" value="([^"]*)"\/>/g)) parameters[unescapeXml(m[1]!)] = unescapeXml(m[2]!);
      call.stream = { url: unescapeXml(attr(stream, 'url') ?? ''), parameters };
    }
    if (!conference && !stream && !call.gatherAction && /<Hangup\/>/.test(twiml)) await this.end(call, 'completed');
  }

  private async join(call: FakeCall, name: string, attributes: string): Promise<void> {
    let conference = [...this.conferences.values()].find((c) => c.name === name && c.status !== 'completed');
    if (!conference) {
      // Twilio takes the conference's callback settings from the first participant that names them.
      const events = (attr(attributes, 'statusCallbackEvent') ?? '').split(' ').filter(Boolean);
      conference = { sid: sid('CF'), name, statusCallback: unescapeXml(attr(attributes, 'statusCallback') ?? '') || null, events, participants: new Set(), status: 'init' };
      this.conferences.set(conference.sid, conference);
    }
    conference.participants.add(call.sid);
    call.conference = name;
    if (attr(attributes, 'startConferenceOnEnter') !== 'false') conference.status = 'in-progress';
    await this.conferenceCallback(conference, 'join', call);
  }

  private async leave(call: FakeCall, name: string): Promise<void> {
    const conference = [...this.conferences.values()].find((c) => c.name === name && c.status !== 'completed');
    call.conference = null;
    if (!conference) return;
    conference.participants.delete(call.sid);
    await this.conferenceCallback(conference, 'leave', call);
    if (conference.participants.size === 0) conference.status = 'completed';
  }

  private async conferenceCallback(conference: FakeConference, event: 'join' | 'leave', call: FakeCall): Promise<void> {
    if (!conference.statusCallback || !conference.events.includes(event)) return;
    await this.deliver(call.accountSid, conference.statusCallback, {
      AccountSid: call.accountSid,
      ConferenceSid: conference.sid,
      FriendlyName: conference.name,
      StatusCallbackEvent: `participant-${event}`,
      CallSid: call.sid,
      Timestamp: new Date().toUTCString(),
    });
  }

  private async end(call: FakeCall, status: FakeCall['status']): Promise<void> {
    if (call.conference) await this.leave(call, call.conference);
    call.status = status;
    call.gatherAction = null;
    if (call.statusCallback) {
      await this.deliver(call.accountSid, call.statusCallback, { AccountSid: call.accountSid, CallSid: call.sid, CallStatus: status, From: call.from, To: call.to, Direction: call.direction });
    }
  }

  // ---- the people ----

  /** The dialled person picks up: Twilio fetches the call's Url and runs the TwiML. */
  async answer(callSid: string): Promise<string> {
    const call = this.mustGet(callSid);
    call.status = 'in-progress';
    const reply = await this.deliver(call.accountSid, call.url!, { AccountSid: call.accountSid, CallSid: call.sid, CallStatus: 'in-progress', From: call.from, To: call.to, Direction: call.direction });
    await this.run(call, reply.body);
    return reply.body;
  }

  /** Keys pressed during the current `<Gather>`. */
  async press(callSid: string, digits: string): Promise<string> {
    const call = this.mustGet(callSid);
    if (!call.gatherAction) throw new Error(`call ${callSid} is not gathering`);
    const reply = await this.deliver(call.accountSid, unescapeXml(call.gatherAction), { AccountSid: call.accountSid, CallSid: call.sid, Digits: digits, FinishedOnKey: '', From: call.from, To: call.to });
    await this.run(call, reply.body);
    return reply.body;
  }

  /** The `<Gather>` timed out with nothing pressed (actionOnEmptyResult posts empty Digits). */
  gatherTimeout(callSid: string): Promise<string> {
    return this.press(callSid, '');
  }

  noAnswer(callSid: string): Promise<void> {
    return this.end(this.mustGet(callSid), 'no-answer');
  }

  busy(callSid: string): Promise<void> {
    return this.end(this.mustGet(callSid), 'busy');
  }

  hangUp(callSid: string): Promise<void> {
    return this.end(this.mustGet(callSid), 'completed');
  }

  call(callSid: string): FakeCall | undefined {
    return this.calls.get(callSid);
  }

  outboundCalls(): FakeCall[] {
    return [...this.calls.values()].filter((c) => c.direction === 'outbound-api');
  }

  private mustGet(callSid: string): FakeCall {
    const call = this.calls.get(callSid);
    if (!call) throw new Error(`no call ${callSid}`);
    return call;
  }

  /** POSTs a signed form to `url` the way Twilio does; the reply is recorded and returned. */
  private async deliver(accountSid: string, url: string, params: Record<string, string>): Promise<DeliveredCallback> {
    const token = this.authTokenOf(accountSid) ?? '';
    const signature = twilio.getExpectedTwilioSignature(token, url, params);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      body: new URLSearchParams(params).toString(),
    });
    const delivered = { url, params, status: response.status, body: await response.text() };
    this.delivered.push(delivered);
    return delivered;
  }
}

function tag(xml: string, name: string): string | null {
  return new RegExp(`<${name}(\\s[^>]*)?/?>`).exec(xml)?.[1] ?? (xml.includes(`<${name}>`) ? '' : null);
}

function attr(attributes: string | null, name: string): string | null {
  if (attributes === null) return null;
  return new RegExp(`\\s${name}="([^"]*)"`).exec(attributes)?.[1] ?? null;
}

function unescapeXml(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function callResource(call: FakeCall): Record<string, unknown> {
  return {
    sid: call.sid,
    account_sid: call.accountSid,
    from: call.from,
    to: call.to,
    status: call.status,
    direction: call.direction,
    api_version: '2010-04-01',
    uri: `/2010-04-01/Accounts/${call.accountSid}/Calls/${call.sid}.json`,
  };
}

function conferenceResource(c: FakeConference): Record<string, unknown> {
  return { sid: c.sid, friendly_name: c.name, status: c.status, participants: c.participants.size };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

function sendError(response: ServerResponse, status: number, code: number, message: string): void {
  sendJson(response, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}
