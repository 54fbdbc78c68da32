/**
 * The call fixture format, shared by the server's recorder, the replay and the fixture generator.
 *
 * A fixture is a folder:
 *   events.jsonl  line 1 a header, then one event per line in the order they happened on the socket,
 *                 `t` = ms since the socket opened. Inbound caller audio is stored compactly: runs of
 *                 digital-silence frames as `silence` (a frame count), other frames as `audio` runs
 *                 (base64 μ-law, 160 bytes per 20 ms frame). A run is cut by any other event, so order
 *                 against the agent's audio and marks is exact.
 *   record.json   the call record, redacted like the call-record store does.
 *   agent.ulaw    (optional) the agent's outbound audio, the `out` media events' bytes in order.
 *   expect.json   (optional, fixtures only) what a replay must reproduce (see expectations.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CallRecord } from '../store/call-record.js';

export const FIXTURE_VERSION = 1;
export const FRAME_BYTES = 160;
export const FRAME_MS = 20;

export interface FixtureHeader {
  type: 'header';
  version: number;
  callSid: string;
  /** Wall clock (the engines' clock, epoch ms) when the stream started: replays pin "today" to it. */
  clockAtStart: number;
  recordedAt: string;
  from: string;
  to: string;
  /** Caller audio replaced by silence on the inbound media clock (ms), when masking was on. */
  maskedRanges: Array<{ startMs: number; endMs: number }>;
  /** Agent config overrides the call was recorded with (deep-merged over the default agent). */
  agentOverrides?: Record<string, unknown>;
  /** Bookings that existed before the call (replays seed them into a fresh database). */
  seedBookings?: SeedBooking[];
  /** Free text: what the call is about. */
  description?: string;
}

export interface SeedBooking {
  name: string;
  phone: string;
  date: string;
  time: string;
  service?: string;
}

export type FixtureEvent =
  | { t: number; dir: 'in'; ev: 'connected' }
  | { t: number; dir: 'in'; ev: 'start'; streamSid: string; callSid: string; customParameters: Record<string, string> }
  /** `frames` consecutive 20 ms inbound frames starting at media timestamp `ts`. */
  | { t: number; dir: 'in'; ev: 'audio'; ts: number; frames: number; payload: string }
  | { t: number; dir: 'in'; ev: 'silence'; ts: number; frames: number }
  /** `digit` is absent when the key press was masked. */
  | { t: number; dir: 'in'; ev: 'dtmf'; digit?: string }
  | { t: number; dir: 'in'; ev: 'mark'; name: string }
  | { t: number; dir: 'in'; ev: 'stop' }
  | { t: number; dir: 'out'; ev: 'media'; bytes: number }
  | { t: number; dir: 'out'; ev: 'mark'; name: string }
  | { t: number; dir: 'out'; ev: 'clear' }
  /** The server closed the socket (a hang-up or transfer). */
  | { t: number; dir: 'out'; ev: 'close' };

export interface Fixture {
  name: string;
  dir: string;
  header: FixtureHeader;
  events: FixtureEvent[];
  record: CallRecord | null;
  expect: unknown;
}

/** Playout pads with 0xFF; a caller's silent line is 0xFF or 0x7F (μ-law ±0). */
export function isDigitalSilence(frame: Uint8Array): boolean {
  for (const byte of frame) if (byte !== 0xff && byte !== 0x7f) return false;
  return true;
}

export function loadFixture(dir: string): Fixture {
  const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const [first, ...rest] = lines;
  if (!first) throw new Error(`${dir}: empty events.jsonl`);
  const header = JSON.parse(first) as FixtureHeader;
  if (header.type !== 'header' || header.version !== FIXTURE_VERSION) {
    throw new Error(`${dir}: not a version ${FIXTURE_VERSION} fixture`);
  }
  const readJson = (file: string): unknown => (existsSync(join(dir, file)) ? JSON.parse(readFileSync(join(dir, file), 'utf8')) : null);
  return {
    name: dir.split(/[\\/]/).filter(Boolean).at(-1) ?? dir,
    dir,
    header,
    events: rest.map((line) => JSON.parse(line) as FixtureEvent),
    record: readJson('record.json') as CallRecord | null,
    expect: readJson('expect.json'),
  };
}

/** Each fixture folder under `dir` (a folder with events.jsonl), or `dir` itself when it is one. */
export function findFixtureDirs(dir: string, list: (d: string) => string[]): string[] {
  if (existsSync(join(dir, 'events.jsonl'))) return [dir];
  return list(dir)
    .map((name) => join(dir, name))
    .filter((d) => existsSync(join(d, 'events.jsonl')))
    .sort();
}
