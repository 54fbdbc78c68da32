/**
 * Hang-up and transfer for a call wherever it runs (POST /calls/:sid/hangup|transfer on any
 * worker): a call held here is acted on directly; a call held elsewhere goes through Twilio's REST
 * API when credentials are set (works from anywhere), else through the store to the owning worker
 * (a command row + a NOTIFY or cluster-IPC wake-up, see WorkerCalls).
 */
import twilio from 'twilio';
import type { Logger } from 'pino';
import type { LocalCallControl, WorkerCalls } from './worker-calls.js';

export interface TwilioControlOptions {
  accountSid: string;
  authToken: string;
  /** TWILIO_API_URL override (tests point it at a fake). */
  apiBaseUrl?: string | undefined;
  transferNumber?: string | undefined;
}

/** A Twilio call (the REST API knows it); browser-phone and test calls have other ids. */
const TWILIO_CALL_SID = /^CA[0-9a-f]{32}$/i;

/**
 * Twilio answered 404 for the call: it is not one of Twilio's (a browser-phone call, whose id has
 * the same CA… shape, on a server that also has Twilio credentials). The store path still reaches it.
 */
function unknownToTwilio(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { status?: unknown }).status === 404;
}

export type ControlOutcome = { accepted: true; via: 'local' | 'twilio' | 'store' } | { accepted: false; reason: 'not-live' | 'no-transfer-number' };

export class CallControl {
  constructor(
    private readonly options: {
      workerCalls: WorkerCalls;
      local: LocalCallControl;
      logger: Logger;
      twilio?: TwilioControlOptions | undefined;
    },
  ) {}

  async hangup(callSid: string): Promise<ControlOutcome> {
    if (this.options.local.hangup(callSid)) return { accepted: true, via: 'local' };
    const holder = await this.options.workerCalls.store.liveCalls.get(callSid);
    if (!holder) return { accepted: false, reason: 'not-live' };
    if (this.options.twilio && TWILIO_CALL_SID.test(callSid)) {
      try {
        await this.client().calls(callSid).update({ status: 'completed' });
        return { accepted: true, via: 'twilio' };
      } catch (error) {
        if (!unknownToTwilio(error)) throw error;
        this.options.logger.info({ callSid }, 'Twilio does not know the call (browser phone?): hang-up goes through the store');
      }
    }
    await this.options.workerCalls.store.commands.issue({ callSid, workerId: holder.workerId, kind: 'hangup' });
    return { accepted: true, via: 'store' };
  }

  async transfer(callSid: string, to: string | undefined): Promise<ControlOutcome> {
    // With Twilio, the REST update is the transfer itself, wherever the call's socket lives.
    if (this.options.twilio && TWILIO_CALL_SID.test(callSid)) {
      const here = this.options.local.has(callSid);
      if (!here && !(await this.options.workerCalls.store.liveCalls.get(callSid))) return { accepted: false, reason: 'not-live' };
      const target = to ?? this.options.twilio.transferNumber;
      if (!target) return { accepted: false, reason: 'no-transfer-number' };
      const response = new twilio.twiml.VoiceResponse();
      response.dial(target);
      try {
        await this.client().calls(callSid).update({ twiml: response.toString() });
        return { accepted: true, via: 'twilio' };
      } catch (error) {
        if (!unknownToTwilio(error)) throw error;
        // Not a Twilio call: the agent on its worker does what it does without credentials.
        this.options.logger.info({ callSid }, 'Twilio does not know the call (browser phone?): transfer goes to the agent');
      }
    }
    if (this.options.local.transfer(callSid, to)) return { accepted: true, via: 'local' };
    const holder = await this.options.workerCalls.store.liveCalls.get(callSid);
    if (!holder) return { accepted: false, reason: 'not-live' };
    await this.options.workerCalls.store.commands.issue({ callSid, workerId: holder.workerId, kind: 'transfer', to });
    return { accepted: true, via: 'store' };
  }

  private client() {
    const t = this.options.twilio!;
    // env: {} so the SDK reads nothing from process.env; config comes from ServerConfig only.
    const client = twilio(t.accountSid, t.authToken, { env: {}, logLevel: 'none', timeout: 5000 });
    if (t.apiBaseUrl) client.api.baseUrl = t.apiBaseUrl;
    return client;
  }
}
