/**
 * Shrinks a recording for committing as a fixture, keeping everything a replay anchors on
 * (agent-utterances.ts): the first outbound media of each agent utterance (its `bytes` become the
 * utterance's total), utterance-end marks and their echoes, clears and the close. Per-chunk marks,
 * their echoes and the rest of the outbound media only paced playback, so they go; the inbound runs
 * they used to cut are merged again. The server's recordings keep every event.
 */
import { isUtteranceEndMark } from '../src/media/twilio-wire.js';
import { FRAME_MS, type FixtureEvent } from '../src/recording/fixture-format.js';

export function compactEvents(events: FixtureEvent[]): FixtureEvent[] {
  const out: FixtureEvent[] = [];
  let utteranceMedia: Extract<FixtureEvent, { dir: 'out'; ev: 'media' }> | null = null;
  for (const event of events) {
    if (event.dir === 'out') {
      if (event.ev === 'media') {
        if (utteranceMedia) utteranceMedia.bytes += event.bytes;
        else {
          utteranceMedia = { ...event };
          out.push(utteranceMedia);
        }
        continue;
      }
      if (event.ev === 'mark' && !isUtteranceEndMark(event.name)) continue;
      // An end mark, clear or close: the next media starts a new utterance.
      utteranceMedia = null;
      out.push(event);
      continue;
    }
    if (event.ev === 'mark' && !isUtteranceEndMark(event.name)) continue;
    const last = out.at(-1);
    if (last && mergeable(last, event)) {
      if (last.ev === 'audio' && event.ev === 'audio') last.payload = Buffer.concat([Buffer.from(last.payload, 'base64'), Buffer.from(event.payload, 'base64')]).toString('base64');
      (last as { frames: number }).frames += (event as { frames: number }).frames;
      continue;
    }
    out.push({ ...event });
  }
  return out;
}

/** Two runs of the same kind that follow each other on the media clock. */
function mergeable(a: FixtureEvent, b: FixtureEvent): boolean {
  if (a.dir !== 'in' || b.dir !== 'in') return false;
  if (!((a.ev === 'audio' && b.ev === 'audio') || (a.ev === 'silence' && b.ev === 'silence'))) return false;
  return b.ts === a.ts + a.frames * FRAME_MS;
}
