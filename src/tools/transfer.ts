/**
 * `transfer_to_person`: decides how "talk to a person" goes for this call.
 *
 * - cold: replaces the live call's TwiML with a `<Dial>` through Twilio's REST API right away
 *   (`calls(sid).update({ twiml })`); that ends the media stream, so the agent says its line first.
 * - warm: records a pending attempt in the transfer store and returns; once the agent's "please
 *   hold" has played, the call session hands the call to src/transfer/warm-transfer.ts (conference,
 *   whisper, press 1, or back to the agent).
 * - nobody to dial (no Twilio credentials, no target for the topic, outside transfer hours): no
 *   transfer; `offerCallback` tells the brain to take a callback request instead.
 */
import { randomUUID } from 'node:crypto';
import twilio from 'twilio';
import type { z } from 'zod';
import type { TransferConfig, TransferTopic } from '../config/transfer-schema.js';
import type { TransferStore } from '../store/transfer-store.js';
import { chooseTarget } from '../transfer/routing.js';
import { restStatus, twilioRestClient } from '../transfer/twilio-rest.js';
import type { CalendarConfig } from '../config/calendar-config.js';
import { transferToPersonInput } from './calendar-schemas.js';
import type { Tool } from './tool.js';
import { ToolError } from './tool-error.js';

export interface TransferOptions {
  accountSid?: string | undefined;
  authToken?: string | undefined;
  /** Replaces `https://api.twilio.com` (the TWILIO_API_URL override); tests point it at a fake. */
  apiBaseUrl?: string | undefined;
  /** Number (or SIP address) to dial when the config lists no targets, e.g. +15551234567. */
  transferNumber?: string | undefined;
  /** Twilio region/edge, if the account is pinned to one. */
  region?: string | undefined;
  edge?: string | undefined;
  timeoutMs?: number | undefined;
  /**
   * Targets, hours and mode from the agent config. Without it: a cold transfer to
   * `transferNumber` at any hour.
   */
  routing?: { config: TransferConfig; schedule: CalendarConfig; mode: 'warm' | 'cold'; now?: () => number } | undefined;
  /** Where warm attempts are recorded; also what makes a callback offer possible. */
  store?: TransferStore | undefined;
}

export type TransferResult =
  | { transferred: true; mode: 'cold' | 'warm'; target: string; attemptId?: string }
  | { transferred: false; reason: 'not-configured' | 'no-target' | 'outside-hours'; offerCallback: boolean };

type TransferArgs = z.infer<typeof transferToPersonInput>;

export function createTransferTool(options: TransferOptions): Tool<TransferArgs, TransferResult> {
  const offerCallback = options.store !== undefined;
  return {
    name: 'transfer_to_person',
    description: 'Transfer the call to a person at the clinic. Say that you are transferring before calling it.',
    input: transferToPersonInput,
    timeoutMs: options.timeoutMs ?? 5000,
    async run(args, { signal, callSid, from }) {
      signal.throwIfAborted();
      const { accountSid, authToken } = options;
      const topic: TransferTopic = args.topic ?? 'general';
      const now = options.routing?.now?.() ?? Date.now();
      const route = options.routing
        ? chooseTarget(options.routing.config, options.routing.schedule, topic, now, options.transferNumber)
        : options.transferNumber
          ? ({ ok: true, target: { label: 'front desk', number: options.transferNumber } } as const)
          : ({ ok: false, reason: 'no-target' } as const);
      if (!accountSid || !authToken) return { transferred: false, reason: 'not-configured', offerCallback };
      if (!route.ok) return { transferred: false, reason: route.reason === 'no-target' ? 'not-configured' : route.reason, offerCallback };
      if (!callSid) throw new ToolError('no-call', 'there is no live call to transfer');

      if (options.routing?.mode === 'warm' && options.store) {
        const attempt = await options.store.createAttempt({
          id: randomUUID(),
          callSid,
          from,
          to: '',
          mode: 'warm',
          topic,
          targetLabel: route.target.label,
          targetNumber: route.target.number,
        });
        return { transferred: true, mode: 'warm', target: route.target.label, attemptId: attempt.id };
      }

      const response = new twilio.twiml.VoiceResponse();
      response.dial(route.target.number);
      const client = twilioRestClient({ accountSid, authToken, apiBaseUrl: options.apiBaseUrl, region: options.region, edge: options.edge }, signal);
      try {
        await client.calls(callSid).update({ twiml: response.toString() });
        return { transferred: true, mode: 'cold', target: route.target.label };
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw toToolError(error);
      }
    },
  };
}

function toToolError(error: unknown): ToolError {
  const status = restStatus(error);
  if (status === 404) return new ToolError('call-not-found', 'the call has already ended', { cause: error });
  if (status !== undefined) return new ToolError('transfer-failed', `Twilio refused the transfer (HTTP ${status})`, { cause: error });
  return new ToolError('transfer-failed', 'could not reach Twilio', { cause: error });
}
