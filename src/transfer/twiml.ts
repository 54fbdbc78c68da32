/**
 * The TwiML of a warm transfer, built with the SDK's VoiceResponse. Every URL is absolute from
 * the configured PUBLIC_URL, because Twilio signs (and we check) exactly those URLs.
 */
import twilio from 'twilio';
import type { TransferConfig } from '../config/transfer-schema.js';
import { STREAM_TICKET_PARAMETER } from '../routes/stream-ticket.js';
import { toWebSocketUrl } from '../routes/twilio-signature.js';

/** Twilio accepts any voice name it knows; the config is the source, not the SDK's list. */
type SayAttributes = Exclude<Parameters<InstanceType<typeof twilio.twiml.VoiceResponse>['say']>[0], string | undefined>;
const sayVoice = (config: TransferConfig) => config.whisperVoice as SayAttributes['voice'];

export const conferenceName = (attemptId: string) => `transfer-${attemptId}`;
export const transferPath = (attemptId: string, leg: 'conference' | 'person' | 'whisper' | 'accept') => `/transfer/${attemptId}/${leg}`;

/** The caller's leg: wait in the conference (hold audio) until the person joins; leaving ends it. */
export function holdTwiml(base: string, attemptId: string, config: TransferConfig): string {
  const response = new twilio.twiml.VoiceResponse();
  response.dial().conference(
    {
      beep: 'false',
      startConferenceOnEnter: false,
      endConferenceOnExit: true,
      ...(config.holdMusicUrl ? { waitUrl: config.holdMusicUrl, waitMethod: 'GET' } : {}),
      statusCallback: base + transferPath(attemptId, 'conference'),
      statusCallbackMethod: 'POST',
      statusCallbackEvent: ['join', 'leave', 'end'],
    },
    conferenceName(attemptId),
  );
  return response.toString();
}

/** The person's leg on answering: the summary, then "press 1"; no key within the timeout posts empty Digits. */
export function whisperTwiml(base: string, attemptId: string, summary: string, config: TransferConfig): string {
  const response = new twilio.twiml.VoiceResponse();
  const gather = response.gather({
    numDigits: 1,
    timeout: config.acceptTimeoutSeconds,
    action: base + transferPath(attemptId, 'accept'),
    method: 'POST',
    actionOnEmptyResult: true,
  });
  const voice = sayVoice(config);
  gather.say({ voice }, summary);
  gather.say({ voice }, config.messages.accept);
  return response.toString();
}

/** The person pressed 1: into the conference, which starts now (the caller's hold audio stops). */
export function joinTwiml(attemptId: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.dial().conference({ beep: 'false', startConferenceOnEnter: true, endConferenceOnExit: true }, conferenceName(attemptId));
  return response.toString();
}

export function declineTwiml(config: TransferConfig, message: string = config.messages.declined): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say({ voice: sayVoice(config) }, message);
  response.hangup();
  return response.toString();
}

/**
 * The caller's leg back to the agent: a new media stream for the same call, with a fresh stream
 * ticket (the /media route refuses a start without one, stream-ticket.ts). `resume` names the
 * attempt; the media route resumes the stored conversation only for an attempt in `returning`.
 */
export function resumeTwiml(base: string, call: { callSid: string; from: string; to: string }, resume: string, ticket: string): string {
  const response = new twilio.twiml.VoiceResponse();
  const stream = response.connect().stream({ url: `${toWebSocketUrl(base)}/media`, statusCallback: `${base}/voice/status`, statusCallbackMethod: 'POST' });
  for (const [name, value] of Object.entries({ ...call, resume, [STREAM_TICKET_PARAMETER]: ticket })) stream.parameter({ name, value });
  response.hangup();
  return response.toString();
}
