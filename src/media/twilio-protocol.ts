/**
 * Twilio Media Streams wire protocol (bidirectional `<Connect><Stream>`).
 * Inbound: `connected`, `start`, `media`, `dtmf`, `mark`, `stop` as JSON text frames, with counters
 * and timestamps sent as strings. Outbound: `media`, `mark`, `clear`. Every inbound frame is
 * schema-checked here; anything else is a typed `ProtocolError` that the caller logs and drops.
 */
import { z } from 'zod';
import { BYTES_PER_MS, MULAW_SILENCE } from './mulaw.js';

const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

/** Twilio sends numbers as strings ("4"); accept both, reject anything not a finite integer. */
const numericString = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || (typeof value === 'string' && value.trim() === '')) {
    ctx.addIssue({ code: 'custom', message: 'expected a number' });
    return z.NEVER;
  }
  return n;
});

const base64 = z.string().regex(BASE64_PATTERN, 'expected base64');

const connectedSchema = z.object({
  event: z.literal('connected'),
  protocol: z.string().optional(),
  version: z.string().optional(),
});

const startSchema = z.object({
  event: z.literal('start'),
  sequenceNumber: numericString.optional(),
  streamSid: z.string().min(1),
  start: z.object({
    streamSid: z.string().min(1),
    accountSid: z.string().optional(),
    callSid: z.string().min(1),
    tracks: z.array(z.string()).optional(),
    customParameters: z.record(z.string(), z.string()).optional().default({}),
    mediaFormat: z
      .object({ encoding: z.string(), sampleRate: z.number(), channels: z.number() })
      .optional(),
  }),
});

const mediaSchema = z.object({
  event: z.literal('media'),
  sequenceNumber: numericString.optional(),
  streamSid: z.string().min(1),
  media: z.object({
    track: z.string().optional(),
    chunk: numericString.optional(),
    timestamp: numericString,
    payload: base64,
  }),
});

const dtmfSchema = z.object({
  event: z.literal('dtmf'),
  sequenceNumber: numericString.optional(),
  streamSid: z.string().min(1),
  dtmf: z.object({ track: z.string().optional(), digit: z.string().regex(/^[0-9*#A-D]$/) }),
});

const markSchema = z.object({
  event: z.literal('mark'),
  sequenceNumber: numericString.optional(),
  streamSid: z.string().min(1),
  mark: z.object({ name: z.string() }),
});

const stopSchema = z.object({
  event: z.literal('stop'),
  sequenceNumber: numericString.optional(),
  streamSid: z.string().min(1),
  stop: z.object({ accountSid: z.string().optional(), callSid: z.string().optional() }).optional(),
});

const inboundSchema = z.discriminatedUnion('event', [
  connectedSchema,
  startSchema,
  mediaSchema,
  dtmfSchema,
  markSchema,
  stopSchema,
]);

export type TwilioInbound = z.infer<typeof inboundSchema>;
export type TwilioStart = z.infer<typeof startSchema>;
export type TwilioMedia = z.infer<typeof mediaSchema>;

export type ProtocolErrorCode =
  | 'binary-frame'
  | 'frame-too-large'
  | 'not-json'
  | 'unknown-event'
  | 'invalid-message'
  | 'bad-media-format';

export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export type ParseResult = { ok: true; message: TwilioInbound } | { ok: false; error: ProtocolError };

const KNOWN_EVENTS = new Set(['connected', 'start', 'media', 'dtmf', 'mark', 'stop']);
/** A 20 ms frame is ~400 characters of JSON; anything near this is not Twilio. */
export const MAX_INBOUND_FRAME_BYTES = 64 * 1024;

export function parseInbound(raw: string): ParseResult {
  if (raw.length > MAX_INBOUND_FRAME_BYTES) {
    return fail('frame-too-large', `frame of ${raw.length} bytes exceeds ${MAX_INBOUND_FRAME_BYTES}`);
  }
  // Every Twilio message is a flat-ish JSON object (depth 3); deep nesting is only there to make
  // the parser work, so it is refused before parsing, in one linear pass.
  if (raw.trimStart()[0] !== '{' || nestingDepth(raw) > MAX_NESTING) return fail('not-json', 'frame is not a JSON object of Twilio\'s shape');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return fail('not-json', 'frame is not JSON');
  }
  const event = typeof json === 'object' && json !== null ? (json as { event?: unknown }).event : undefined;
  if (typeof event !== 'string' || !KNOWN_EVENTS.has(event)) {
    return fail('unknown-event', `unknown event ${JSON.stringify(event)?.slice(0, 40)}`);
  }
  // Media is ~50 frames a second per call: well-formed frames take a hand-written check of the same
  // schema (mediaSchema's output, unknown keys dropped); anything it does not accept goes through
  // zod, which rejects it (or accepts it) with the usual message.
  if (event === 'media') {
    const fast = fastMedia(json as Record<string, unknown>);
    if (fast) return { ok: true, message: fast };
  }
  return checkSchema(json, event);
}

/** The zod check of any inbound message (the media fast path's reference; exported for tests). */
export function checkSchema(json: unknown, event: string): ParseResult {
  const parsed = inboundSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || '(root)';
    return fail('invalid-message', `${event}: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  const message = parsed.data;
  if (message.event === 'start') {
    const format = message.start.mediaFormat;
    if (format && (format.encoding !== 'audio/x-mulaw' || format.sampleRate !== 8000 || format.channels !== 1)) {
      return fail(
        'bad-media-format',
        `unsupported media format ${format.encoding}/${format.sampleRate}/${format.channels}`,
      );
    }
  }
  return { ok: true, message };
}

const MAX_NESTING = 8;

/** numericString's rule: a finite number, or a non-blank string that converts to one; else NaN. */
function numeric(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
  if (typeof value !== 'string' || value.trim() === '') return NaN;
  const n = Number(value);
  return Number.isFinite(n) ? n : NaN;
}

/**
 * mediaSchema's output for a frame that passes it, built by hand; null for anything else (which
 * zod then judges). Never accepts what mediaSchema rejects: test/unit/twilio-protocol.test.ts
 * holds the two side by side.
 */
function fastMedia(json: Record<string, unknown>): TwilioMedia | null {
  const { streamSid, media, sequenceNumber } = json;
  if (typeof streamSid !== 'string' || streamSid.length === 0) return null;
  if (typeof media !== 'object' || media === null || Array.isArray(media)) return null;
  const { track, chunk, timestamp, payload } = media as Record<string, unknown>;
  if (typeof payload !== 'string' || !BASE64_PATTERN.test(payload)) return null;
  if (track !== undefined && typeof track !== 'string') return null;
  const time = numeric(timestamp);
  if (Number.isNaN(time)) return null;
  const out: TwilioMedia['media'] = { timestamp: time, payload };
  if (track !== undefined) out.track = track;
  if (chunk !== undefined) {
    const n = numeric(chunk);
    if (Number.isNaN(n)) return null;
    out.chunk = n;
  }
  const message: TwilioMedia = { event: 'media', streamSid, media: out };
  if (sequenceNumber !== undefined) {
    const n = numeric(sequenceNumber);
    if (Number.isNaN(n)) return null;
    message.sequenceNumber = n;
  }
  return message;
}

/** Deepest bracket nesting outside strings, stopping early once past MAX_NESTING. */
function nestingDepth(raw: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > MAX_NESTING) return depth;
    } else if (c === 125 || c === 93) depth--;
  }
  return depth;
}

function fail(code: ProtocolErrorCode, message: string): ParseResult {
  return { ok: false, error: new ProtocolError(code, message) };
}

/** Decode a media payload; Buffer.from silently skips junk, so validity was checked by the schema. */
export function decodePayload(payload: string): Uint8Array {
  const buf = Buffer.from(payload, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function mediaMessage(streamSid: string, mulaw: Uint8Array): string {
  const payload = Buffer.from(mulaw.buffer, mulaw.byteOffset, mulaw.byteLength).toString('base64');
  // The same bytes JSON.stringify writes for { event, streamSid, media: { payload } }, built as a
  // string (one per outbound 20 ms frame): base64 has nothing JSON would escape.
  return `{"event":"media","streamSid":${JSON.stringify(streamSid)},"media":{"payload":"${payload}"}}`;
}

export function markMessage(streamSid: string, name: string): string {
  return JSON.stringify({ event: 'mark', streamSid, mark: { name } });
}

export function clearMessage(streamSid: string): string {
  return JSON.stringify({ event: 'clear', streamSid });
}

/**
 * Inbound media clock. The phone leg may omit silent audio; turn detection needs continuous time,
 * so a gap between one frame's end and the next frame's timestamp is filled with silence.
 * Timestamps come from the peer, so the fill is bounded twice: at most MAX_FILL_PER_FRAME_MS per
 * frame, and never more than the wall time that really passed since the previous frame (silence
 * Twilio left out took real time to not arrive; a forged jump did not).
 * Pure: returns the next clock and the silence to insert before this frame's audio.
 */
export interface MediaClock {
  /** Expected timestamp of the next frame, ms; null before the first frame. */
  nextTimestampMs: number | null;
  /** Wall clock (ms, any monotonic origin) when the previous frame arrived; null before the first. */
  lastArrivalMs?: number | null;
}

/** Longest gap we fill; beyond it the stream restarted or the clock jumped, not silence. */
export const MAX_GAP_FILL_MS = 10_000;
/** Most silence one frame may add, whatever its timestamp says. */
export const MAX_FILL_PER_FRAME_MS = 1_000;

export function advanceMediaClock(
  clock: MediaClock,
  timestampMs: number,
  payloadBytes: number,
  arrivalMs: number,
): [MediaClock, Uint8Array | null] {
  const frameMs = payloadBytes / BYTES_PER_MS;
  const frameEndMs = timestampMs + frameMs;
  const expected = clock.nextTimestampMs;
  if (expected === null) return [{ nextTimestampMs: frameEndMs, lastArrivalMs: arrivalMs }, null];
  const gapMs = timestampMs - expected;
  // Jitter of a millisecond or two is rounding, not lost audio.
  if (gapMs < 2 || gapMs > MAX_GAP_FILL_MS) {
    return [{ nextTimestampMs: Math.max(expected, frameEndMs), lastArrivalMs: arrivalMs }, null];
  }
  const elapsedMs = clock.lastArrivalMs == null ? 0 : Math.max(0, arrivalMs - clock.lastArrivalMs);
  const fillMs = Math.min(gapMs, MAX_FILL_PER_FRAME_MS, elapsedMs);
  const next: MediaClock = { nextTimestampMs: frameEndMs, lastArrivalMs: arrivalMs };
  if (fillMs < 2) return [next, null];
  const silence = new Uint8Array(Math.round(fillMs * BYTES_PER_MS)).fill(MULAW_SILENCE);
  return [next, silence];
}
