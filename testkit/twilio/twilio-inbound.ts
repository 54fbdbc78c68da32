/**
 * Builds the messages Twilio sends on a bidirectional media stream, with Twilio's counters
 * (`sequenceNumber` over all messages, `chunk` over media, both as strings): one place for every
 * simulated Twilio (the replay simulator, the test caller).
 */
const ACCOUNT_SID = 'AC00000000000000000000000000000000';

export class TwilioInboundMessages {
  private seq = 1;
  private chunk = 0;

  constructor(
    readonly callSid: string,
    readonly streamSid: string,
  ) {}

  connected() {
    return { event: 'connected', protocol: 'Call', version: '1.0.0' };
  }

  start(customParameters: Record<string, string>) {
    return {
      event: 'start',
      sequenceNumber: String(this.seq++),
      start: {
        accountSid: ACCOUNT_SID,
        streamSid: this.streamSid,
        callSid: this.callSid,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters,
      },
      streamSid: this.streamSid,
    };
  }

  media(mulaw: Uint8Array, timestampMs: number) {
    return {
      event: 'media',
      sequenceNumber: String(this.seq++),
      media: {
        track: 'inbound',
        chunk: String(++this.chunk),
        timestamp: String(timestampMs),
        payload: Buffer.from(mulaw.buffer, mulaw.byteOffset, mulaw.byteLength).toString('base64'),
      },
      streamSid: this.streamSid,
    };
  }

  dtmf(digit: string) {
    return { event: 'dtmf', streamSid: this.streamSid, sequenceNumber: String(this.seq++), dtmf: { track: 'inbound_track', digit } };
  }

  /** The echo of one of our marks (played through, or cleared). */
  mark(name: string) {
    return { event: 'mark', sequenceNumber: String(this.seq++), streamSid: this.streamSid, mark: { name } };
  }

  stop() {
    return {
      event: 'stop',
      sequenceNumber: String(this.seq++),
      stop: { accountSid: ACCOUNT_SID, callSid: this.callSid },
      streamSid: this.streamSid,
    };
  }
}
