/**
 * A paced fake Twilio caller that measures TTFA and barge-in from the wire, its caller audio, and
 * scripted calls (one, or many at once against a server child process).
 */
import { decodeMulaw } from '../src/media/mulaw.js';
import { pcm16ToMulaw } from '../src/speech/audio-convert.js';
import type { CallerTurn, CallRecord } from '../src/store/call-record.js';
import { callerPcm, whiteNoise } from '../testkit/helpers/caller-audio.js';
import { FakeTwilioCaller } from '../testkit/twilio/fake-twilio-caller.js';
import { fetchRecord, resetStats, serverStats, type Child } from './children.js';
import { now, sleep, stats } from './harness.js';

export const callerTurns = (r: CallRecord | null) => (r?.turns ?? []).filter((t): t is CallerTurn => t.role === 'caller');

// ---- caller audio ---------------------------------------------------------------------------

export interface Utterance { text: string; frames: Uint8Array[]; /** frame indexes the Deepgram fake would call speech */ speech: boolean[] }

const audioCache = new Map<string, Utterance>();

/** flite `rms` voice over a −60 dBFS noise floor through μ-law, cut into 20 ms frames, each classed speech/silence by energy. */
export function utterance(text: string): Utterance {
  const cached = audioCache.get(text);
  if (cached) return cached;
  // The same noise floor as between utterances: a step from digital silence to noise reads as speech to Silero.
  const pcm = callerPcm(text, 'rms', 100);
  const noise = whiteNoise(pcm.length, -60, text.length);
  const mulaw = pcm16ToMulaw(pcm.map((s, i) => Math.max(-32768, Math.min(32767, s + noise[i]!))));
  const frames: Uint8Array[] = [];
  for (let at = 0; at < mulaw.length; at += 160) {
    const f = new Uint8Array(160).fill(0xff);
    f.set(mulaw.subarray(at, at + 160));
    frames.push(f);
  }
  // The Deepgram fake's rule: mean |sample| above 1000 is speech.
  const speech = frames.map((f) => decodeMulaw(f).reduce((a, s) => a + Math.abs(s), 0) / 160 > 1000);
  const u = { text, frames, speech };
  audioCache.set(text, u);
  return u;
}

/** A quiet phone line (≈ −60 dBFS white noise), looped between utterances. */
const NOISE = pcm16ToMulaw(whiteNoise(8000, -60, 7));
const noiseFrame = (k: number) => NOISE.subarray((k % 50) * 160, (k % 50) * 160 + 160);

// ---- the paced caller -----------------------------------------------------------------------

/**
 * A Twilio peer that streams 20 ms frames on an absolute real-time schedule for the whole call
 * (noise between utterances, catching up after a late timer like a real jitter-free source),
 * plays our audio back in real time (FakeTwilioCaller: marks echoed as played, `clear` honoured),
 * and timestamps everything on the wire with `now()`.
 */
export class BenchCaller {
  readonly twilio: FakeTwilioCaller;
  readonly mediaAt: number[] = [];
  readonly clearAt: number[] = [];
  closedAt: number | null = null;
  private queue: Array<{ frame: Uint8Array; speech: boolean }> = [];
  private drained: (() => void) | null = null;
  private firstSpeechAt: number | null = null;
  private lastSpeechAt: number | null = null;
  private k = 0;
  private t0 = 0;
  private timer: NodeJS.Timeout | null = null;

  /** `url`: the server's http://127.0.0.1:PORT base. */
  constructor(url: string, playback: 'realtime' | 'instant' = 'realtime') {
    this.twilio = new FakeTwilioCaller({ url: `${url.replace(/^http/, 'ws')}/media`, playback, from: `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}` });
    this.twilio.ws.on('message', (data) => {
      const at = now();
      const event = (JSON.parse(data.toString()) as { event: string }).event;
      if (event === 'media') this.mediaAt.push(at);
      else if (event === 'clear') this.clearAt.push(at);
    });
    this.twilio.ws.on('close', () => (this.closedAt = now()));
    this.twilio.ws.on('error', () => undefined);
  }

  get callSid(): string {
    return this.twilio.callSid;
  }

  async start(): Promise<void> {
    await this.twilio.start();
    this.t0 = performance.now();
    this.tick();
  }

  private tick(): void {
    const due = () => this.t0 + this.k * 20;
    while (due() <= performance.now() + 1) {
      if (this.twilio.ws.readyState !== this.twilio.ws.OPEN) return;
      const next = this.queue.shift();
      const frame = next?.frame ?? noiseFrame(this.k);
      this.twilio.send({
        event: 'media',
        sequenceNumber: String(this.k + 3),
        media: { track: 'inbound', chunk: String(this.k + 1), timestamp: String(this.k * 20), payload: Buffer.from(frame).toString('base64') },
        streamSid: this.twilio.streamSid,
      });
      if (next?.speech) {
        this.firstSpeechAt ??= now();
        this.lastSpeechAt = now();
      }
      this.k++;
      if (next && this.queue.length === 0) this.drained?.();
    }
    this.timer = setTimeout(() => this.tick(), Math.max(0, due() - performance.now()));
  }

  /** Streams the utterance in real time; resolves when its last frame went out. */
  say(u: Utterance): Promise<{ firstSpeechAt: number; lastSpeechAt: number }> {
    this.firstSpeechAt = null;
    this.lastSpeechAt = null;
    this.queue.push(...u.frames.map((frame, i) => ({ frame, speech: u.speech[i]! })));
    return new Promise((resolve) => {
      this.drained = () => {
        this.drained = null;
        resolve({ firstSpeechAt: this.firstSpeechAt ?? now(), lastSpeechAt: this.lastSpeechAt ?? now() });
      };
    });
  }

  /** First outbound media frame after `t` (epoch ms). */
  async mediaAfter(t: number, timeoutMs = 15_000): Promise<number> {
    await this.until(() => this.mediaAt.some((m) => m > t), timeoutMs, 'agent audio');
    return this.mediaAt.find((m) => m > t)!;
  }

  async clearAfter(t: number, timeoutMs = 5_000): Promise<number> {
    await this.until(() => this.clearAt.some((m) => m > t), timeoutMs, 'clear');
    return this.clearAt.find((m) => m > t)!;
  }

  /** The agent finished speaking: everything received has played and nothing new came for a while. */
  async quiet(timeoutMs = 30_000, quietMs = 400): Promise<void> {
    await this.until(
      () => this.mediaAt.length > 0 && this.twilio.playedAudioMs >= this.twilio.receivedAudioBytes / 8 - 1 && now() - this.mediaAt.at(-1)! > quietMs,
      timeoutMs,
      // A clear the caller's playback never catches up from is the usual way to get stuck here.
      `agent to finish speaking (${this.clearAt.length} clear(s) received)`,
    );
  }

  async until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const started = now();
    while (!predicate()) {
      if (this.closedAt !== null) throw new Error(`socket closed while waiting for ${what}`);
      if (now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await sleep(5);
    }
  }

  /** Twilio `stop`, then close the socket. */
  async hangUp(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.twilio.ws.readyState === this.twilio.ws.OPEN) this.twilio.stop();
    await sleep(50);
    this.twilio.close();
  }
}

// ---- a scripted call ------------------------------------------------------------------------

export interface CallResult {
  callSid: string;
  /** Per caller turn: end of speech audio sent → first agent frame received, ms. */
  wireTtfa: number[];
  record: CallRecord | null;
  error: string | null;
}

/** Greeting, then each utterance once the agent is quiet; TTFA measured on the wire per turn. */
export async function scriptedCall(url: string, script: Utterance[], options: { startDelayMs?: number } = {}): Promise<CallResult> {
  await sleep(options.startDelayMs ?? 0);
  const caller = new BenchCaller(url);
  const wireTtfa: number[] = [];
  let error: string | null = null;
  try {
    await caller.start();
    await caller.quiet(60_000);
    for (const u of script) {
      const { lastSpeechAt } = await caller.say(u);
      wireTtfa.push((await caller.mediaAfter(lastSpeechAt, 20_000)) - lastSpeechAt);
      await caller.quiet(60_000);
    }
  } catch (e) {
    error = (e as Error).message;
  }
  await caller.hangUp();
  let record: CallRecord | null = null;
  try {
    // The final record is written as the call ends, maybe by another worker: until it is, the store
    // holds the start snapshot (no turns yet). Wait for the end, a few seconds at most.
    const deadline = now() + 5000;
    record = await fetchRecord(url, caller.callSid);
    while (record?.endReason == null && now() < deadline) {
      await sleep(100);
      record = await fetchRecord(url, caller.callSid);
    }
  } catch (e) {
    error ??= `record: ${(e as Error).message}`;
  }
  return { callSid: caller.callSid, wireTtfa, record, error };
}

/** Turn metrics of a set of calls: record TTFA and stages, wire TTFA, errors. */
export function summarize(calls: CallResult[]) {
  const turns = calls.flatMap((c) => callerTurns(c.record));
  const pick = (k: keyof CallerTurn['metrics']) => turns.map((t) => t.metrics[k]).filter((v): v is number => typeof v === 'number');
  return {
    calls: calls.length,
    turns: turns.length,
    ttfa: stats(pick('ttfaMs')),
    wireTtfa: stats(calls.flatMap((c) => c.wireTtfa)),
    endpoint: stats(pick('endpointMs')),
    stt: stats(pick('sttMs')),
    llm: stats(pick('llmFirstTokenMs')),
    tts: stats(pick('ttsFirstByteMs')),
    errors: calls.filter((c) => c.error).length,
    errorSamples: [...new Set(calls.flatMap((c) => (c.error ? [c.error] : [])))].slice(0, 5),
    misheard: turns.filter((t) => t.input !== 'speech').length,
  };
}

/** Runs `n` scripted calls at once (starts spread over `spreadMs`) and samples the server meanwhile. */
export async function concurrentCalls(server: Child & { url: string }, n: number, script: Utterance[], spreadMs = 1000) {
  const rssBefore = (await serverStats(server)).rss;
  await resetStats(server);
  const started = now();
  const calls = await Promise.all(Array.from({ length: n }, (_, i) => scriptedCall(server.url, script, { startDelayMs: (i * spreadMs) / n })));
  const s = await serverStats(server);
  return {
    n,
    wallMs: Math.round(now() - started),
    summary: summarize(calls),
    loop: s.loop,
    cpuPercent: Math.round(((s.cpuUserMs + s.cpuSystemMs) / s.wallMs) * 1000) / 10,
    rssBeforeMb: Math.round(rssBefore / 1e5) / 10,
    maxRssMb: Math.round(s.maxRss / 1e5) / 10,
    rssPerCallMb: Math.round(((s.maxRss - rssBefore) / n / 1e6) * 100) / 100,
    calls,
  };
}
