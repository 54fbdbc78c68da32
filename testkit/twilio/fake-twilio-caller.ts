/**
 * Plays Twilio's side of a media stream against our /media socket: connected → start → 20 ms media
 * frames; echoes our marks once the audio before them has "played" (real time, or at once); honours
 * clear by dropping the playback buffer and echoing every pending mark, as Twilio does.
 */
import WebSocket from 'ws';
import { announceCall } from './announce-call.js';
import { TwilioInboundMessages } from './twilio-inbound.js';

export interface FakeCallerOptions {
  url: string;
  headers?: Record<string, string>;
  /** WebSocket subprotocols to offer (the browser phone sends its token as one). */
  protocols?: string[];
  callSid?: string;
  streamSid?: string;
  from?: string;
  to?: string;
  /**
   * 'realtime' plays outbound audio at 8 bytes/ms; 'instant' echoes marks as soon as they arrive;
   * 'never-echo' plays but never echoes a mark (a broken peer).
   */
  playback?: 'realtime' | 'instant' | 'never-echo';
  /**
   * How caller frames go out. 'on-demand' (default): only when the test sends audio, so the wire
   * is quiet between sends. 'continuous': like Twilio, one 20 ms frame every 20 ms of wall time
   * from `start` to `stop`, silence whenever the test has nothing queued; `sendMulaw`/`silence`
   * queue their frames on that clock and resolve once they are on the wire.
   */
  pacing?: 'on-demand' | 'continuous';
  /** More `<Parameter>`s for `start.customParameters` (e.g. a resumed stream's, with `announce: false`). */
  parameters?: Record<string, string>;
  /**
   * Announce the call on /voice before `start`, as Twilio does, and carry the stream parameters it
   * answers (the server refuses unannounced streams). Default: yes, unless `protocols` are given
   * (the browser phone's token replaces the announcement). `headers` signs the webhook.
   */
  announce?: boolean | { headers: (params: Record<string, string>) => Record<string, string> };
}

const SILENT_FRAME = new Uint8Array(160).fill(0xff);

type Outbound = { event: 'media'; media: { payload: string } } | { event: 'mark'; mark: { name: string } } | { event: 'clear' };

export class FakeTwilioCaller {
  readonly ws: WebSocket;
  readonly received: Array<Outbound & { at: number; streamSid: string }> = [];
  readonly callSid: string;
  readonly streamSid: string;
  private readonly messages: TwilioInboundMessages;
  private timestampMs = 0;
  /** Outbound playback buffer: audio ms and marks waiting for it to play. */
  private queue: Array<{ kind: 'audio'; ms: number; audio: Buffer } | { kind: 'mark'; name: string }> = [];
  /** Agent audio the caller has heard, in order, with when it finished playing (Date.now()). */
  readonly played: Array<{ audio: Buffer; at: number }> = [];
  private playTimer: NodeJS.Timeout | null = null;
  /** Continuous pacing: frames waiting for the wire clock, each with a callback once sent. */
  private outbox: Array<{ frame: Uint8Array; sent?: () => void }> = [];
  private wireTimer: NodeJS.Timeout | null = null;
  private wireStartedAt = 0;
  private wireFrames = 0;
  receivedAudioBytes = 0;
  playedAudioMs = 0;

  constructor(private readonly options: FakeCallerOptions) {
    this.callSid = options.callSid ?? `CA${Math.random().toString(16).slice(2).padEnd(32, '0')}`;
    this.streamSid = options.streamSid ?? `MZ${Math.random().toString(16).slice(2).padEnd(32, '0')}`;
    this.messages = new TwilioInboundMessages(this.callSid, this.streamSid);
    this.ws = new WebSocket(options.url, options.protocols ?? [], { headers: options.headers });
    this.ws.on('message', (data) => this.onMessage(JSON.parse(data.toString())));
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  closed(): Promise<number> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve(1000);
      this.ws.once('close', (code) => resolve(code));
    });
  }

  async start(): Promise<void> {
    const call = { callSid: this.callSid, from: this.options.from ?? '+15551230000', to: this.options.to ?? '+15559870000' };
    const announce = this.options.announce ?? !this.options.protocols?.length;
    const params = announce
      ? await announceCall(this.options.url, call, typeof announce === 'object' ? announce.headers : undefined)
      : {};
    await this.opened();
    this.send(this.messages.connected());
    this.send(this.messages.start({ callSid: call.callSid, from: call.from, to: call.to, ...params, ...this.options.parameters }));
    if (this.options.pacing === 'continuous') {
      this.wireStartedAt = Date.now();
      this.tickWire();
    }
  }

  /** One frame per 20 ms of wall time; a late timer catches up (a few frames at once, as jitter would). */
  private tickWire(): void {
    this.wireTimer = null;
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const due = Math.floor((Date.now() - this.wireStartedAt) / 20) + 1;
    for (let n = 0; this.wireFrames < due && n < 5; n++) {
      const next = this.outbox.shift();
      this.sendFrame(next?.frame ?? SILENT_FRAME);
      this.wireFrames++;
      next?.sent?.();
    }
    this.wireFrames = Math.max(this.wireFrames, due - 5);
    this.wireTimer = setTimeout(() => this.tickWire(), Math.max(1, this.wireStartedAt + this.wireFrames * 20 - Date.now()));
  }

  private stopWire(): void {
    if (this.wireTimer) clearTimeout(this.wireTimer);
    this.wireTimer = null;
    for (const item of this.outbox.splice(0)) item.sent?.();
  }

  private sendFrame(frame: Uint8Array): void {
    this.send(this.messages.media(frame, this.timestampMs));
    this.timestampMs += 20;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Send `ms` of one repeated byte as 20 ms frames, paced at real time unless `fast`. */
  sendAudio(byte: number, ms: number, fast = false): Promise<void> {
    return this.sendMulaw(new Uint8Array(Math.round(ms * 8)).fill(byte), fast);
  }

  /** Send μ-law audio as 20 ms frames (the last one padded with silence), real time unless `fast`. */
  async sendMulaw(audio: Uint8Array, fast = false): Promise<void> {
    const frames: Uint8Array[] = [];
    for (let at = 0; at < audio.length; at += 160) {
      const frame = new Uint8Array(160).fill(0xff);
      frame.set(audio.subarray(at, at + 160));
      frames.push(frame);
    }
    if (this.options.pacing === 'continuous') {
      if (frames.length === 0 || !this.wireStartedAt) return;
      await new Promise<void>((resolve) => {
        frames.forEach((frame, i) => this.outbox.push(i === frames.length - 1 ? { frame, sent: resolve } : { frame }));
      });
      return;
    }
    for (const frame of frames) {
      this.sendFrame(frame);
      if (!fast) await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Loud μ-law (0x00 ≈ full-scale negative) reads as speech to the amplitude VAD. */
  speak(ms: number, fast = false): Promise<void> {
    return this.sendAudio(0x00, ms, fast);
  }

  silence(ms: number, fast = false): Promise<void> {
    return this.sendAudio(0xff, ms, fast);
  }

  dtmf(digit: string): void {
    this.send(this.messages.dtmf(digit));
  }

  stop(): void {
    this.stopWire();
    this.send(this.messages.stop());
  }

  async waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const started = Date.now();
    while (!predicate()) {
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  count(event: Outbound['event']): number {
    return this.received.filter((m) => m.event === event).length;
  }

  private onMessage(message: Outbound & { streamSid: string }): void {
    this.received.push({ ...message, at: Date.now() });
    if (message.event === 'media') {
      const audio = Buffer.from(message.media.payload, 'base64');
      const bytes = audio.length;
      this.receivedAudioBytes += bytes;
      this.queue.push({ kind: 'audio', ms: bytes / 8, audio });
    } else if (message.event === 'mark') {
      this.queue.push({ kind: 'mark', name: message.mark.name });
    } else if (message.event === 'clear') {
      // Twilio empties its buffer and sends back every pending mark.
      const marks = this.queue.flatMap((q) => (q.kind === 'mark' ? [q.name] : []));
      this.queue = [];
      for (const name of marks) this.echo(name);
    }
    this.play();
  }

  private play(): void {
    if (this.playTimer) return;
    while (this.queue[0]?.kind === 'mark') this.echo((this.queue.shift() as { name: string }).name);
    const head = this.queue[0];
    if (!head) return;
    if (this.options.playback === 'instant') {
      this.queue.shift();
      this.playedAudioMs += head.kind === 'audio' ? head.ms : 0;
      if (head.kind === 'audio') this.played.push({ audio: head.audio, at: Date.now() });
      return this.play();
    }
    this.playTimer = setTimeout(() => {
      this.playTimer = null;
      if (this.queue[0] === head) {
        this.queue.shift();
        this.playedAudioMs += head.kind === 'audio' ? head.ms : 0;
        if (head.kind === 'audio') this.played.push({ audio: head.audio, at: Date.now() });
      }
      this.play();
    }, head.kind === 'audio' ? head.ms : 0);
  }

  private echo(name: string): void {
    if (this.options.playback === 'never-echo') return;
    if (this.ws.readyState === WebSocket.OPEN) {
      this.send(this.messages.mark(name));
    }
  }

  close(): void {
    this.stopWire();
    if (this.playTimer) clearTimeout(this.playTimer);
    this.ws.close();
  }
}
