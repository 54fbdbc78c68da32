/**
 * The caller side of a fixture as a script: every inbound frame, key press and the hang-up, each
 * anchored to the agent's speech as it was on the wire when recorded (agent-utterances.ts). The
 * replay sends an item only once the replayed call has reached the same point, so caller speech
 * never lands on top of the agent unless the recorded caller did talk over it (a barge-in).
 */
import { UtteranceCounter, type Anchor } from '../testkit/twilio/agent-utterances.js';
import { FRAME_BYTES, FRAME_MS, type Fixture } from '../src/recording/fixture-format.js';
import type { CallerItem } from '../testkit/twilio/fake-twilio-caller.js';

export interface ScriptItem {
  item: CallerItem;
  anchor: Anchor;
  /** ms since the socket opened, when recorded. */
  t: number;
}

export interface CallerScript {
  items: ScriptItem[];
  /** The recorded caller hung up (a `stop`); otherwise the server ended the call. */
  callerHungUp: boolean;
  /** Recorded inbound media, ms (for progress). */
  mediaMs: number;
}

const SILENT_FRAME = new Uint8Array(FRAME_BYTES).fill(0xff);

export function callerScript(fixture: Fixture): CallerScript {
  const counter = new UtteranceCounter();
  const firstMediaAt = new Map<number, number>();
  const endedAt = new Map<number, number>([[0, 0]]);
  const items: ScriptItem[] = [];
  let callerHungUp = false;
  let mediaMs = 0;

  const anchorAt = (t: number): Anchor => {
    if (!counter.talking) return { kind: 'idle', u: counter.ended };
    const u = counter.current;
    const playStart = Math.max(firstMediaAt.get(u) ?? t, endedAt.get(u - 1) ?? 0);
    return { kind: 'talking', u, atMs: Math.max(0, t - playStart) };
  };
  const ended = (t: number) => {
    for (let u = 1; u <= counter.ended; u++) if (!endedAt.has(u)) endedAt.set(u, t);
  };

  for (const event of fixture.events) {
    const { t } = event;
    if (event.dir === 'out') {
      if (event.ev === 'media' && counter.outboundMedia()) firstMediaAt.set(counter.started, t);
      else if (event.ev === 'mark') counter.outboundMark(event.name);
      else if (event.ev === 'clear' && counter.outboundClear()) ended(t);
      continue;
    }
    switch (event.ev) {
      case 'mark':
        if (counter.markPlayed(event.name)) ended(t);
        break;
      case 'audio':
      case 'silence': {
        const bytes = event.ev === 'audio' ? Buffer.from(event.payload, 'base64') : null;
        for (let i = 0; i < event.frames; i++) {
          const audio = bytes ? bytes.subarray(i * FRAME_BYTES, (i + 1) * FRAME_BYTES) : SILENT_FRAME;
          items.push({ item: { kind: 'frame', audio }, anchor: anchorAt(t + i * FRAME_MS), t: t + i * FRAME_MS });
        }
        mediaMs += event.frames * FRAME_MS;
        break;
      }
      case 'dtmf':
        // A masked key press (no digit) cannot be replayed.
        if (event.digit !== undefined) items.push({ item: { kind: 'dtmf', digit: event.digit }, anchor: anchorAt(t), t });
        break;
      case 'stop':
        callerHungUp = true;
        items.push({ item: { kind: 'stop' }, anchor: anchorAt(t), t });
        break;
    }
  }
  return { items, callerHungUp, mediaMs };
}
