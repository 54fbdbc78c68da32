/**
 * A scripted caller on a live call (the fixture generator's driver): says things with the synthetic
 * voice, presses keys, talks over the agent, stays silent or hangs up, always in real time through
 * the Twilio simulator, and waits for the agent's reply like a person would.
 */
import type { CallSession } from '../src/dialog/call-session.js';
import { callerSpeech, type VoiceOptions } from './caller-voice.js';
import { FRAME_BYTES } from '../src/recording/fixture-format.js';
import type { CallerItem, CallerStep, FakeTwilioCaller } from '../testkit/twilio/fake-twilio-caller.js';

export class LiveCaller {
  private readonly queue: CallerItem[] = [];
  private hungUp = false;

  constructor(
    readonly sim: FakeTwilioCaller,
    private readonly session: () => CallSession | undefined,
    private readonly voice: VoiceOptions = {},
  ) {}

  /** For FakeTwilioCaller.drive(). */
  next = (): CallerStep => {
    const item = this.queue.shift();
    if (item) return { send: item };
    return this.hungUp ? 'done' : 'wait';
  };

  get ended(): boolean {
    return this.sim.isClosed || this.session()?.isEnded === true;
  }

  /** The agent has finished talking and listens. */
  async agentDone(what = 'the agent to finish'): Promise<void> {
    await this.until(() => this.ended || (this.session()?.phase === 'listening' && !this.sim.utterances.talking), what);
  }

  async say(text: string, voice: VoiceOptions = {}): Promise<void> {
    await this.agentDone();
    const before = this.turns();
    await this.speak(text, voice);
    await this.reply(`the reply to "${text}"`, before);
  }

  async press(keys: string): Promise<void> {
    await this.agentDone();
    const before = this.turns();
    for (const digit of keys) this.queue.push({ kind: 'dtmf', digit });
    await this.reply(`the reply to keys ${keys}`, before);
  }

  /** Talks over the agent once `atMs` of its current (or next) utterance has played. */
  async bargeIn(text: string, atMs: number): Promise<void> {
    await this.until(() => this.ended || (this.sim.utterances.talking && this.sim.playedMs(this.sim.utterances.current) >= atMs), 'agent audio to barge in on');
    const before = this.turns();
    await this.speak(text, {});
    await this.reply(`the reply to the barge-in "${text}"`, before);
  }

  /** Says nothing for `ms` (the line carries silence). */
  async pause(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
  }

  async hangUp(): Promise<void> {
    this.queue.push({ kind: 'stop' });
    this.hungUp = true;
    await this.until(() => this.queue.length === 0, 'the hang-up to be sent');
  }

  async untilEnded(timeoutMs = 60_000): Promise<void> {
    await this.until(() => this.ended, 'the call to end', timeoutMs);
  }

  private async speak(text: string, voice: VoiceOptions): Promise<void> {
    const audio = callerSpeech(text, { ...this.voice, ...voice });
    for (let at = 0; at < audio.length; at += FRAME_BYTES) this.queue.push({ kind: 'frame', audio: audio.subarray(at, at + FRAME_BYTES) });
    await this.until(() => this.queue.length === 0, `"${text}" to be sent`);
  }

  private turns(): number {
    return this.session()?.record.turns.length ?? 0;
  }

  private async reply(what: string, before = this.turns()): Promise<void> {
    await this.until(() => this.ended || this.turns() >= before + 2, what);
    await this.agentDone(what);
  }

  private async until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const started = Date.now();
    while (!condition()) {
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
