/**
 * Twilio's side of a bidirectional media stream, for replays and the fixture generator (the logic
 * of ./fake-twilio-caller.ts, plus a shared clock).
 *
 * One clock drives both directions, as on a real line: every inbound 20 ms frame we send also plays
 * 20 ms of the agent's buffered audio. Marks are echoed when playback reaches them; `clear` drops
 * the buffer and echoes every pending mark at once (those echoes are not playback). `pace: 'realtime'`
 * sends a frame every 20 ms of wall time, filling with silence like Twilio does; `pace: 'max'` sends
 * as fast as the caller script allows and, when nothing may be sent yet and no agent audio is
 * buffered, waits for the server instead of sending silence (so the server's think time takes no
 * media time).
 */
import WebSocket from 'ws';
import { announceCall } from './announce-call.js';
import { UtteranceCounter } from './agent-utterances.js';
import { FRAME_BYTES, FRAME_MS } from '../../src/recording/fixture-format.js';
import { TwilioInboundMessages } from './twilio-inbound.js';

export type CallerItem = { kind: 'frame'; audio: Uint8Array } | { kind: 'dtmf'; digit: string } | { kind: 'stop' };

/** What the caller does next: send something, wait (filler/playback or the server), or hang up the script. */
export type CallerStep = { send: CallerItem } | 'wait' | 'done';

export interface SimulatorOptions {
  url: string;
  headers?: Record<string, string>;
  callSid?: string;
  streamSid?: string;
  customParameters?: Record<string, string>;
  pace: 'realtime' | 'max';
  /** POST /voice first, as Twilio does, and carry its stream parameters (default true). */
  announce?: boolean;
}

interface Queued {
  kind: 'audio' | 'mark';
  audio?: Uint8Array;
  offset?: number;
  name?: string;
  utterance: number;
}

const SILENT_FRAME = new Uint8Array(FRAME_BYTES).fill(0xff);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class TwilioSimulator {
  readonly callSid: string;
  readonly streamSid: string;
  readonly utterances = new UtteranceCounter();
  /** Caller and agent audio placed on the shared media clock (ms), for the conversation WAV. */
  readonly callerAudio: Array<{ atMs: number; audio: Uint8Array }> = [];
  readonly agentAudio: Array<{ atMs: number; audio: Uint8Array }> = [];
  /** Outbound events with the media clock they arrived at. */
  readonly outbound: Array<{ event: 'media' | 'mark' | 'clear'; atMs: number }> = [];
  /** The shared media clock: ms of inbound audio sent. */
  clockMs = 0;
  closeCode: number | null = null;
  private readonly ws: WebSocket;
  private readonly played = new Map<number, number>();
  private queue: Queued[] = [];
  private readonly messages: TwilioInboundMessages;
  private wakeServer: (() => void) | null = null;

  constructor(private readonly options: SimulatorOptions) {
    this.callSid = options.callSid ?? `CA${randomHex(32)}`;
    this.streamSid = options.streamSid ?? `MZ${randomHex(32)}`;
    this.messages = new TwilioInboundMessages(this.callSid, this.streamSid);
    this.ws = new WebSocket(options.url, { headers: options.headers });
    this.ws.on('message', (data) => this.onMessage(JSON.parse(data.toString()) as OutboundMessage));
    this.ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
    this.ws.on('error', () => this.wake());
  }

  get closed(): boolean {
    return this.closeCode !== null || this.ws.readyState === WebSocket.CLOSED;
  }

  /** ms of utterance `u` played so far. */
  playedMs(u: number): number {
    return this.played.get(u) ?? 0;
  }

  get bufferedAudioMs(): number {
    return this.queue.reduce((ms, q) => ms + (q.kind === 'audio' ? (q.audio!.length - q.offset!) / 8 : 0), 0);
  }

  async connect(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    const given = this.options.customParameters ?? {};
    const announced =
      this.options.announce === false
        ? {}
        : await announceCall(this.options.url, { callSid: this.callSid, from: given.from ?? '', to: given.to ?? '' });
    this.send(this.messages.connected());
    this.send(this.messages.start({ callSid: this.callSid, ...given, ...announced }));
  }

  /**
   * Runs the caller until `next` says done or the socket closes. In realtime pace each frame takes
   * 20 ms of wall time (drift-corrected); in max pace frames go out back to back.
   */
  async drive(next: () => CallerStep): Promise<void> {
    const startedAt = performance.now();
    let sent = 0;
    while (!this.closed) {
      const step = next();
      if (step === 'done') return;
      if (step !== 'wait') {
        this.sendItem(step.send);
        if (step.send.kind !== 'frame') continue;
      } else if (this.options.pace === 'realtime' || this.queue.length > 0) {
        this.sendItem({ kind: 'frame', audio: SILENT_FRAME });
      } else {
        await this.serverActivity(200);
        continue;
      }
      sent++;
      if (this.options.pace === 'realtime') {
        const due = startedAt + sent * FRAME_MS;
        await sleep(Math.max(0, due - performance.now()));
      } else {
        // Let the socket deliver marks and media, and respect backpressure.
        await new Promise((r) => setImmediate(r));
        while (this.ws.bufferedAmount > 256 * 1024 && !this.closed) await sleep(1);
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

  sendItem(item: CallerItem): void {
    if (this.closed) return;
    if (item.kind === 'dtmf') {
      this.send(this.messages.dtmf(item.digit));
    } else if (item.kind === 'stop') {
      this.send(this.messages.stop());
    } else {
      const frame = item.audio.length === FRAME_BYTES ? item.audio : padFrame(item.audio);
      this.send(this.messages.media(frame, this.clockMs));
      this.callerAudio.push({ atMs: this.clockMs, audio: frame });
      this.play(FRAME_MS);
      this.clockMs += FRAME_MS;
    }
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }

  closedPromise(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.ws.once('close', () => resolve()));
  }

  private send(message: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private wake(): void {
    this.wakeServer?.();
  }

  private onMessage(message: OutboundMessage): void {
    this.outbound.push({ event: message.event, atMs: this.clockMs });
    if (message.event === 'media') {
      this.utterances.outboundMedia();
      const audio = Buffer.from(message.media.payload, 'base64');
      this.queue.push({ kind: 'audio', audio, offset: 0, utterance: this.utterances.started });
    } else if (message.event === 'mark') {
      this.utterances.outboundMark(message.mark.name);
      this.queue.push({ kind: 'mark', name: message.mark.name, utterance: this.utterances.started });
    } else if (message.event === 'clear') {
      const marks = this.queue.flatMap((q) => (q.kind === 'mark' ? [q.name!] : []));
      this.queue = [];
      this.utterances.outboundClear();
      for (const name of marks) this.echo(name);
    }
    this.play(0);
    this.wake();
  }

  /** Plays `ms` of buffered agent audio (0: just echo marks at the head). */
  private play(ms: number): void {
    let budget = ms * 8;
    let at = this.clockMs;
    for (;;) {
      const head = this.queue[0];
      if (!head) return;
      if (head.kind === 'mark') {
        this.queue.shift();
        this.utterances.markPlayed(head.name!);
        this.echo(head.name!);
        continue;
      }
      if (budget <= 0) return;
      const audio = head.audio!;
      const take = Math.min(budget, audio.length - head.offset!);
      this.agentAudio.push({ atMs: at, audio: audio.subarray(head.offset!, head.offset! + take) });
      this.played.set(head.utterance, this.playedMs(head.utterance) + take / 8);
      head.offset! += take;
      budget -= take;
      at += take / 8;
      if (head.offset === audio.length) this.queue.shift();
    }
  }

  private echo(name: string): void {
    this.send(this.messages.mark(name));
  }
}

type OutboundMessage =
  | { event: 'media'; media: { payload: string } }
  | { event: 'mark'; mark: { name: string } }
  | { event: 'clear' };

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
