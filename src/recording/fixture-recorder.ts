/**
 * Records a media-stream call as a replayable fixture (format: fixture-format.ts) under
 * `<dataDir>/recordings/<callSid>/`. Opt-in per agent (`recording.enabled`).
 *
 * The media route taps every inbound message and every outbound media/mark/clear/close into a
 * `MediaTap`; everything stays in memory until the socket closes, because which caller audio must be
 * masked is only known from the finished call record (turns whose text the redactor changes, or
 * that hold a confirmed name or phone slot).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-schema.js';
import type { TwilioInbound } from '../media/twilio-protocol.js';
import { redactCallRecord, type Redactor } from '../observability/redact.js';
import { CALL_SID, type CallRecord, type CallerTurn } from '../store/call-record.js';
import { FIXTURE_VERSION, FRAME_MS, isDigitalSilence, type FixtureEvent, type FixtureHeader } from './fixture-format.js';

/** Margin around a masked turn's speech: the VAD's onset and end are a window or two late/early. */
const MASK_MARGIN_MS = 200;

/** What the media route reports; every method is cheap and never throws into the call. */
export interface MediaTap {
  inbound(message: TwilioInbound): void;
  outMedia(mulaw: Uint8Array): void;
  outMark(name: string): void;
  outClear(): void;
  outClose(): void;
  callEnded(record: CallRecord): void;
  /** The socket closed: write the recording. */
  socketClosed(): void;
}

export interface FixtureRecorderOptions {
  dataDir: string;
  agent: AgentConfig;
  redact: Redactor;
  logger: Logger;
  /** Wall clock, epoch ms (the engines' clock: pinned in replays). */
  now?: () => number;
}

type Raw =
  | { kind: 'frame'; t: number; ts: number; audio: Uint8Array }
  | { kind: 'dtmf'; t: number; digit: string }
  | { kind: 'event'; event: FixtureEvent };

export class FixtureRecorder {
  private readonly writes = new Set<Promise<void>>();
  constructor(private readonly options: FixtureRecorderOptions) {}

  /** A tap for one new media socket. */
  open(): MediaTap {
    return new CallFixtureRecording(this.options, (write) => {
      this.writes.add(write);
      void write.finally(() => this.writes.delete(write));
    });
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }
}

class CallFixtureRecording implements MediaTap {
  private readonly openedAt = performance.now();
  private readonly raw: Raw[] = [];
  private readonly agentAudio: Uint8Array[] = [];
  private header: FixtureHeader | null = null;
  private record: CallRecord | null = null;
  private written = false;

  constructor(
    private readonly options: FixtureRecorderOptions,
    private readonly track: (write: Promise<void>) => void,
  ) {}

  private t(): number {
    return Math.round(performance.now() - this.openedAt);
  }

  private push(event: FixtureEvent): void {
    this.raw.push({ kind: 'event', event });
  }

  inbound(message: TwilioInbound): void {
    const t = this.t();
    switch (message.event) {
      case 'connected':
        return this.push({ t, dir: 'in', ev: 'connected' });
      case 'start': {
        const { callSid, customParameters } = message.start;
        const now = (this.options.now ?? Date.now)();
        this.header = {
          type: 'header',
          version: FIXTURE_VERSION,
          callSid,
          clockAtStart: now,
          recordedAt: new Date(now).toISOString(),
          from: customParameters.from ?? '',
          to: customParameters.to ?? '',
          maskedRanges: [],
        };
        return this.push({ t, dir: 'in', ev: 'start', streamSid: message.streamSid, callSid, customParameters: { ...customParameters } });
      }
      case 'media':
        this.raw.push({ kind: 'frame', t, ts: message.media.timestamp, audio: Buffer.from(message.media.payload, 'base64') });
        return;
      case 'dtmf':
        this.raw.push({ kind: 'dtmf', t, digit: message.dtmf.digit });
        return;
      case 'mark':
        return this.push({ t, dir: 'in', ev: 'mark', name: message.mark.name });
      case 'stop':
        return this.push({ t, dir: 'in', ev: 'stop' });
    }
  }

  outMedia(mulaw: Uint8Array): void {
    this.agentAudio.push(Uint8Array.from(mulaw));
    this.push({ t: this.t(), dir: 'out', ev: 'media', bytes: mulaw.length });
  }

  outMark(name: string): void {
    this.push({ t: this.t(), dir: 'out', ev: 'mark', name });
  }

  outClear(): void {
    this.push({ t: this.t(), dir: 'out', ev: 'clear' });
  }

  outClose(): void {
    this.push({ t: this.t(), dir: 'out', ev: 'close' });
  }

  callEnded(record: CallRecord): void {
    this.record = record;
  }

  socketClosed(): void {
    if (this.written || !this.header) return;
    this.written = true;
    const write = this.write().catch((error: unknown) => this.options.logger.error({ err: error }, 'could not write the call recording'));
    this.track(write);
  }

  private async write(): Promise<void> {
    const header = this.header!;
    if (!CALL_SID.test(header.callSid)) throw new Error(`refusing to record callSid ${JSON.stringify(header.callSid)}`);
    const { recording } = this.options.agent;
    const r = recording.redact;
    const redactionOn = r.cardNumbers || r.phoneNumbers || r.datesOfBirth || r.emails || r.custom.length > 0;
    const mask = redactionOn && recording.maskCallerAudio;
    const record = this.record ? redactCallRecord(this.record, this.options.redact) : null;
    const maskedDtmf = new Set<number>();
    if (mask && this.record) {
      const turns = sensitiveCallerTurns(this.record, this.options.redact, this.options.agent);
      header.maskedRanges = turns
        .flatMap((turn) => (turn.audio ? [{ startMs: Math.max(0, turn.audio.startMs - MASK_MARGIN_MS), endMs: turn.audio.endMs + MASK_MARGIN_MS }] : []));
      for (const turn of turns) if (turn.input === 'dtmf') this.maskKeys(turn.text, maskedDtmf);
      // The caller's own number: kept for replay only when masking is off.
      header.from = this.options.redact(header.from);
      if (record) record.from = this.options.redact(record.from);
      for (const item of this.raw) {
        if (item.kind === 'event' && item.event.ev === 'start') {
          const params = item.event.customParameters;
          for (const key of Object.keys(params)) params[key] = this.options.redact(params[key] ?? '');
        }
      }
    }
    const events = this.compact(header, maskedDtmf, mask);
    const dir = join(this.options.dataDir, 'recordings', header.callSid);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `.${process.pid}.tmp`;
    const body = [header, ...events].map((e) => JSON.stringify(e)).join('\n') + '\n';
    // Caller audio and transcripts: readable by this user only.
    const privately = { mode: 0o600 } as const;
    await writeFile(join(dir, `events.jsonl${tmp}`), body, privately);
    await writeFile(join(dir, `agent.ulaw${tmp}`), Buffer.concat(this.agentAudio), privately);
    if (record) await writeFile(join(dir, `record.json${tmp}`), JSON.stringify(record, null, 2), privately);
    // events.jsonl last: its presence means the fixture is complete.
    await rename(join(dir, `agent.ulaw${tmp}`), join(dir, 'agent.ulaw'));
    if (record) await rename(join(dir, `record.json${tmp}`), join(dir, 'record.json'));
    await rename(join(dir, `events.jsonl${tmp}`), join(dir, 'events.jsonl'));
  }

  /** Masks the key presses that typed `digits` (the first unmasked run of them, plus its `#`). */
  private maskKeys(digits: string, masked: Set<number>): void {
    const keys = this.raw.flatMap((r, i) => (r.kind === 'dtmf' && !masked.has(i) ? [{ i, digit: r.digit }] : []));
    for (let start = 0; start < keys.length; start++) {
      const run = keys.slice(start, start + digits.length);
      if (run.map((k) => k.digit).join('') !== digits) continue;
      for (const k of run) masked.add(k.i);
      const next = keys[start + digits.length];
      if (next?.digit === '#') masked.add(next.i);
      return;
    }
  }

  /** Frames → `audio`/`silence` runs (masked frames become silence), cut at every other event. */
  private compact(header: FixtureHeader, maskedDtmf: Set<number>, mask: boolean): FixtureEvent[] {
    const out: FixtureEvent[] = [];
    let firstTs: number | null = null;
    let run: { t: number; ts: number; silent: boolean; frames: Uint8Array[] } | null = null;
    const flush = () => {
      if (!run) return;
      if (run.silent) out.push({ t: run.t, dir: 'in', ev: 'silence', ts: run.ts, frames: run.frames.length });
      else out.push({ t: run.t, dir: 'in', ev: 'audio', ts: run.ts, frames: run.frames.length, payload: Buffer.concat(run.frames).toString('base64') });
      run = null;
    };
    this.raw.forEach((item, index) => {
      if (item.kind !== 'frame') {
        flush();
        if (item.kind === 'event') out.push(item.event);
        else out.push(maskedDtmf.has(index) ? { t: item.t, dir: 'in', ev: 'dtmf' } : { t: item.t, dir: 'in', ev: 'dtmf', digit: item.digit });
        return;
      }
      firstTs ??= item.ts;
      const at = item.ts - firstTs;
      const masked = mask && header.maskedRanges.some((r) => at + FRAME_MS > r.startMs && at < r.endMs);
      const silent = masked || (item.audio.length === 160 && isDigitalSilence(item.audio));
      const audio = masked ? new Uint8Array(item.audio.length).fill(0xff) : item.audio;
      if (!run || run.silent !== silent || audio.length !== 160) {
        flush();
        run = { t: item.t, ts: item.ts, silent, frames: [] };
      }
      run.frames.push(audio);
    });
    flush();
    return out;
  }
}

/** Caller turns that carried personal data: the redactor changes their text, or they hold a confirmed name/phone slot. */
export function sensitiveCallerTurns(record: CallRecord, redact: Redactor, agent: AgentConfig): CallerTurn[] {
  const fields = agent.slots.fields;
  const personal = Object.entries(record.slots)
    .filter(([slot]) => {
      const field = fields[slot as keyof typeof fields];
      return field?.critical && (field.type === 'name' || field.type === 'phone');
    })
    .map(([, value]) => value.toLowerCase().trim())
    .filter((v) => v.length > 0);
  return record.turns.filter((turn): turn is CallerTurn => {
    if (turn.role !== 'caller' || !turn.text) return false;
    if (redact(turn.text) !== turn.text) return true;
    const text = ` ${turn.text.toLowerCase()} `;
    return personal.some((value) => text.includes(` ${value} `) || (turn.input === 'dtmf' && turn.text.replace(/\D/g, '') === value.replace(/\D/g, '')));
  });
}
