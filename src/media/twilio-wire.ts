/**
 * Conventions we put on the Twilio media-stream wire beyond its schema (twilio-protocol.ts), in one
 * place so the writer (playout.ts) and every reader (the call recorder, the Twilio simulator,
 * fixture compaction) agree.
 *
 * Mark names: `g<generation>:<seq>` after each chunk, and `…:end` on an utterance's last chunk, so
 * a reader of the wire alone can tell where an utterance ends.
 */
const UTTERANCE_END_SUFFIX = ':end';

export function markName(generation: number, seq: number, final: boolean): string {
  return `g${generation}:${seq}${final ? UTTERANCE_END_SUFFIX : ''}`;
}

export function isUtteranceEndMark(name: string): boolean {
  return name.endsWith(UTTERANCE_END_SUFFIX);
}
