/**
 * Counts the agent's utterances as seen on the wire, identically when recording (server side) and
 * when replaying (simulated Twilio side), so a caller event can be anchored to "while utterance u
 * was playing, at ms x" or "after utterance u had finished" and replayed at the same point even when
 * the server is faster or slower than when it was recorded.
 *
 * Wire rules (src/media/twilio-wire.ts, written by src/media/playout.ts): an utterance's last mark is named `…:end`; audio after it (or
 * after a `clear`, or the first audio of the call) starts the next utterance; an utterance is over
 * when its end mark is echoed by playback, or when a `clear` drops it (marks echoed because of the
 * clear are not playback).
 */
import { isUtteranceEndMark } from '../../src/media/twilio-wire.js';

/** Where a caller event belongs relative to the agent's speech. */
export type Anchor =
  /** The agent was silent; utterance `u` (0 = none yet) was the last to finish. */
  | { kind: 'idle'; u: number }
  /** Utterance `u` was playing; `atMs` of it had been played. */
  | { kind: 'talking'; u: number; atMs: number };

export class UtteranceCounter {
  started = 0;
  ended = 0;
  private boundary = true;
  private readonly pendingEnds = new Set<string>();

  get talking(): boolean {
    return this.started > this.ended;
  }

  /** The utterance whose audio is at the head of the playback buffer (while talking). */
  get current(): number {
    return this.ended + 1;
  }

  /** Returns true when this media starts a new utterance. */
  outboundMedia(): boolean {
    const starts = this.boundary;
    if (starts) this.started++;
    this.boundary = false;
    return starts;
  }

  outboundMark(name: string): void {
    if (!isUtteranceEndMark(name)) return;
    this.pendingEnds.add(name);
    this.boundary = true;
  }

  /** Returns true when it ended an utterance. */
  outboundClear(): boolean {
    const wasTalking = this.talking;
    this.ended = this.started;
    this.pendingEnds.clear();
    this.boundary = true;
    return wasTalking;
  }

  /** A mark echoed because playback reached it. Returns true when it ended an utterance. */
  markPlayed(name: string): boolean {
    if (!this.pendingEnds.delete(name)) return false;
    this.ended = Math.min(this.started, this.ended + 1);
    return true;
  }
}
