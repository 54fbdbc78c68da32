/**
 * The one simulator of Twilio's end of a media stream, for tests, benchmarks and the QA tools
 * (replay, fixture generation): connected → start → 20 ms media frames; our audio is buffered and
 * "played", each mark echoed when playback reaches it; `clear` drops the buffer and echoes every
 * pending mark at once (those echoes are not playback), as Twilio does.
 *
 * What advances playback (`playback`): wall time ('realtime', 8 bytes/ms), nothing ('instant':
 * everything plays on arrival), or the caller's own frames ('media-clock': every inbound 20 ms
 * frame plays 20 ms of buffered audio, one clock for both directions as on a real line; replays
 * and fixtures use it so the server's think time costs no media time at `pace: 'max'`).
 * 'never-echo' plays in real time but never echoes a mark (a broken peer).
 *
 * How caller frames go out: on demand (`sendMulaw`, `silence`), continuously like Twilio
 * (`pacing: 'continuous'`: a frame every 20 ms from start to stop, silence when nothing is queued),
 * or from a caller script (`drive`, at `pace` 'realtime' or 'max').
 */
import WebSocket from 'ws';
import { announceCall } from './announce-call.js';
import { UtteranceCounter } from './agent-utterances.js';
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
  /** What advances playback of our audio (see above). Default 'realtime'. */
  playback?: 'realtime' | 'instant' | 'never-echo' | 'media-clock';
  /**
   * How caller frames go out. 'on-demand' (default): only when the test sends audio, so the wire
   * is quiet between sends. 'continuous': like Twilio, one 20 ms frame every 20 ms of wall time
   * from `start` to `stop`, silence whenever the test has nothing queued; `sendMulaw`/`silence`
   * queue their frames on that clock and resolve once they are on the wire.
   */
  pacing?: 'on-demand' | 'continuous';
  /** `drive()`: a frame every 20 ms of wall time ('realtime', the default) or as fast as the script allows ('max'). */
  pace?: 'realtime' | 'max';
  /** More `<Parameter>`s for `start.customParameters` (e.g. a resumed stream's, with `announce: false`, or a replayed fixture's). */
  parameters?: Record<string, string>;
  /**
   * Announce the call on /voice before `start`, as Twilio does, and carry the stream parameters it
   * answers (the server refuses unannounced streams). Default: yes, unless `protocols` are given
   * (the browser phone's token replaces the announcement). `headers` signs the webhook.
   */
  announce?: boolean | { headers: (params: Record<string, string>) => Record<string, string> };
}

export type CallerItem = { kind: 'frame'; audio: Uint8Array } | { kind: 'dtmf'; digit: string } | { kind: 'stop' };

/** What a caller script does next: send something, wait (for playback or the server), or end the script. */
export type CallerStep = { send: CallerItem } | 'wait' | 'done';

type Outbound = { event: 'media'; media: { payload: string } } | { event: 'mark'; mark: { name: string } } | { event: 'clear' };

type Queued = { kind: 'audio'; audio: Buffer; offset: number; utterance: number } | { kind: 'mark'; name: string };

const FRAME_BYTES = 160;
const FRAME_MS = 20;
const SILENT_FRAME = new Uint8Array(FRAME_BYTES).fill(0xff);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class FakeTwilioCaller {
  readonly ws: WebSocket;
  /** Everything the server sent, with the wall time (`at`) and media clock (`atMs`) it arrived at. */
  readonly received: Array<Outbound & { at: number; atMs: number; streamSid: string }> = [];
  readonly callSid: string;
  readonly streamSid: string;
  /** The agent's utterances as seen on the wire (qa/ anchors caller events to them). */
  readonly utterances = new UtteranceCounter();
  /** Agent audio the caller has heard, in order, with when it finished playing (Date.now()) and where on the media clock. */
  readonly played: Array<{ audio: Buffer; at: number; atMs: number }> = [];
  /** Caller audio sent, on the media clock (for the conversation WAV). */
  readonly callerAudio: Array<{ atMs: number; audio: Uint8Array }> = [];
  receivedAudioBytes = 0;
  playedAudioMs = 0;
  closeCode: number | null = null;
  private readonly messages: TwilioInboundMessages;
  /** The media clock: ms of caller audio sent. */
  private timestampMs = 0;
  private queue: Queued[] = [];
  private readonly playedPerUtterance = new Map<number, number>();
  private playTimer: NodeJS.Timeout | null = null;
  /** Continuous pacing: frames waiting for the wire clock, each with a callback once sent. */
  private outbox: Array<{ frame: Uint8Array; sent?: () => void }> = [];
  private wireTimer: NodeJS.Timeout | null = null;
  private wireStartedAt = 0;
  private wireFrames = 0;
  private wakeServer: (() => void) | null = null;

  constructor(private readonly options: FakeCallerOptions) {
    this.callSid = options.callSid ?? `CA${randomHex(32)}`;
    this.streamSid = options.streamSid ?? `MZ${randomHex(32)}`;
    this.messages = new TwilioInboundMessages(this.callSid, this.streamSid);
    this.ws = new WebSocket(options.url, options.protocols ?? [], { headers: options.headers });
    this.ws.on('message', (data) => this.onMessage(JSON.parse(data.toString())));
    this.ws.on('close', (code) => {
      this.closeCode = code;
      this.stopWire();
      this.wakeServer?.();
    });
    this.ws.on('error', () => this.wakeServer?.());
  }

  /** The media clock: ms of caller audio sent so far. */
  get clockMs(): number {
    return this.timestampMs;
  }

  get isClosed(): boolean {
    return this.closeCode !== null || this.ws.readyState === WebSocket.CLOSED;
  }

  /** ms of agent utterance `u` played so far. */
  playedMs(u: number): number {
    return this.playedPerUtterance.get(u) ?? 0;
  }

  get bufferedAudioMs(): number {
    return this.queue.reduce((ms, q) => ms + (q.kind === 'audio' ? (q.audio.length - q.offset) / 8 : 0), 0);
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
      if (this.ws.readyState === WebSocket.CLOSED) return resolve(this.closeCode ?? 1000);
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
    // What /voice answered wins over `parameters` (a replayed fixture carries its recording's stale ticket).
    this.send(this.messages.start({ callSid: call.callSid, from: call.from, to: call.to, ...this.options.parameters, ...params }));
    if (this.options.pacing === 'continuous') {
      this.wireStartedAt = Date.now();
      this.tickWire();
    }
  }

  send(message: unknown): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Send `ms` of one repeated byte as 20 ms frames, paced at real time unless `fast`. */
  sendAudio(byte: number, ms: number, fast = false): Promise<void> {
    return this.sendMulaw(new Uint8Array(Math.round(ms * 8)).fill(byte), fast);
  }

  /** Send μ-law audio as 20 ms frames (the last one padded with silence), real time unless `fast`. */
  async sendMulaw(audio: Uint8Array, fast = false): Promise<void> {
    const frames: Uint8Array[] = [];
    for (let at = 0; at < audio.length; at += FRAME_BYTES) frames.push(padFrame(audio.subarray(at, at + FRAME_BYTES)));
    if (this.options.pacing === 'continuous') {
      if (frames.length === 0 || !this.wireStartedAt) return;
      await new Promise<void>((resolve) => {
        frames.forEach((frame, i) => this.outbox.push(i === frames.length - 1 ? { frame, sent: resolve } : { frame }));
      });
      return;
    }
    for (const frame of frames) {
      this.sendFrame(frame);
      if (!fast) await sleep(FRAME_MS);
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

  /** One caller-script item: a frame (on the media clock), a key or `stop`. */
  sendItem(item: CallerItem): void {
    if (this.isClosed) return;
    if (item.kind === 'dtmf') this.dtmf(item.digit);
    else if (item.kind === 'stop') this.stop();
    else this.sendFrame(item.audio.length === FRAME_BYTES ? item.audio : padFrame(item.audio));
  }

  /**
   * Runs a caller script until `next` says done or the socket closes. At pace 'realtime' each frame
   * takes 20 ms of wall time (drift-corrected) and a waiting caller sends silence, as Twilio does;
   * at 'max' frames go out back to back, and a waiting caller with no agent audio buffered waits
   * for the server instead of sending silence.
   */
  async drive(next: () => CallerStep): Promise<void> {
    const realtime = (this.options.pace ?? 'realtime') === 'realtime';
    const startedAt = performance.now();
    let sent = 0;
    while (!this.isClosed) {
      const step = next();
      if (step === 'done') return;
      if (step !== 'wait') {
        this.sendItem(step.send);
        if (step.send.kind !== 'frame') continue;
      } else if (realtime || this.queue.length > 0) {
        this.sendItem({ kind: 'frame', audio: SILENT_FRAME });
      } else {
        await this.serverActivity(200);
        continue;
      }
      sent++;
      if (realtime) {
        await sleep(Math.max(0, startedAt + sent * FRAME_MS - performance.now()));
      } else {
        // Let the socket deliver marks and media, and respect backpressure.
        await new Promise((r) => setImmediate(r));
        while (this.ws.bufferedAmount > 256 * 1024 && !this.isClosed) await sleep(1);
      }
    }
  }

  /** Resolves on the next message from the server, the socket closing, or after `timeoutMs`. */
  serverActivity(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeServer = null;
        resolve();
      }, timeoutMs);
      this.wakeServer = () => {
        clearTimeout(timer);
        this.wakeServer = null;
        resolve();
      };
    });
  }

  async waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const started = Date.now();
    while (!predicate()) {
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  }

  count(event: Outbound['event']): number {
    return this.received.filter((m) => m.event === event).length;
  }

  close(): void {
    this.stopWire();
    if (this.playTimer) clearTimeout(this.playTimer);
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }

  private sendFrame(frame: Uint8Array): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.send(this.messages.media(frame, this.timestampMs));
    this.callerAudio.push({ atMs: this.timestampMs, audio: frame });
    if (this.options.playback === 'media-clock') this.playFor(FRAME_MS);
    this.timestampMs += FRAME_MS;
  }

  /** One frame per 20 ms of wall time; a late timer catches up (a few frames at once, as jitter would). */
  private tickWire(): void {
    this.wireTimer = null;
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const due = Math.floor((Date.now() - this.wireStartedAt) / FRAME_MS) + 1;
    for (let n = 0; this.wireFrames < due && n < 5; n++) {
      const next = this.outbox.shift();
      this.sendFrame(next?.frame ?? SILENT_FRAME);
      this.wireFrames++;
      next?.sent?.();
    }
    this.wireFrames = Math.max(this.wireFrames, due - 5);
    this.wireTimer = setTimeout(() => this.tickWire(), Math.max(1, this.wireStartedAt + this.wireFrames * FRAME_MS - Date.now()));
  }

  private stopWire(): void {
    if (this.wireTimer) clearTimeout(this.wireTimer);
    this.wireTimer = null;
    for (const item of this.outbox.splice(0)) item.sent?.();
  }

  private onMessage(message: Outbound & { streamSid: string }): void {
    this.received.push({ ...message, at: Date.now(), atMs: this.timestampMs });
    if (message.event === 'media') {
      const audio = Buffer.from(message.media.payload, 'base64');
      this.receivedAudioBytes += audio.length;
      this.utterances.outboundMedia();
      this.queue.push({ kind: 'audio', audio, offset: 0, utterance: this.utterances.started });
    } else if (message.event === 'mark') {
      this.utterances.outboundMark(message.mark.name);
      this.queue.push({ kind: 'mark', name: message.mark.name });
    } else if (message.event === 'clear') {
      // Twilio empties its buffer and sends back every pending mark.
      const marks = this.queue.flatMap((q) => (q.kind === 'mark' ? [q.name] : []));
      this.queue = [];
      if (this.playTimer) clearTimeout(this.playTimer);
      this.playTimer = null;
      this.utterances.outboundClear();
      for (const name of marks) this.echo(name);
    }
    this.schedulePlayback();
    this.wakeServer?.();
  }

  private schedulePlayback(): void {
    const playback = this.options.playback ?? 'realtime';
    if (playback === 'instant') return this.playFor(Infinity);
    this.playFor(0); // marks at the head of the buffer have been reached
    if (playback === 'media-clock' || this.playTimer) return;
    const head = this.queue[0];
    if (head?.kind !== 'audio') return;
    const ms = (head.audio.length - head.offset) / 8;
    this.playTimer = setTimeout(() => {
      this.playTimer = null;
      this.playFor(ms);
      this.schedulePlayback();
    }, ms);
  }

  /** Plays up to `ms` of buffered audio, echoing each mark it reaches (0: only the marks at the head). */
  private playFor(ms: number): void {
    let budget = ms * 8;
    let atMs = this.timestampMs;
    for (;;) {
      const head = this.queue[0];
      if (!head) return;
      if (head.kind === 'mark') {
        this.queue.shift();
        this.utterances.markPlayed(head.name);
        this.echo(head.name);
        continue;
      }
      if (budget <= 0) return;
      const take = Math.min(budget, head.audio.length - head.offset);
      this.played.push({ audio: head.audio.subarray(head.offset, head.offset + take), at: Date.now(), atMs });
      this.playedPerUtterance.set(head.utterance, this.playedMs(head.utterance) + take / 8);
      this.playedAudioMs += take / 8;
      head.offset += take;
      budget -= take;
      atMs += take / 8;
      if (head.offset === head.audio.length) this.queue.shift();
    }
  }

  private echo(name: string): void {
    if (this.options.playback === 'never-echo') return;
    this.send(this.messages.mark(name));
  }
}

function padFrame(audio: Uint8Array): Uint8Array {
  const frame = new Uint8Array(FRAME_BYTES).fill(0xff);
  frame.set(audio.subarray(0, FRAME_BYTES));
  return frame;
}

function randomHex(length: number): string {
  let out = '';
  while (out.length < length) out += Math.random().toString(16).slice(2);
  return out.slice(0, length);
}
