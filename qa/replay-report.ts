/**
 * What a replay produced, for people and machines: a per-turn table for the terminal, a JSON report
 * and a WAV of the whole conversation (caller and agent mixed on the shared media clock, 8 kHz 16-bit).
 */
import { decodeMulaw } from '../src/media/mulaw.js';
import type { AgentTurn, CallRecord, CallerTurn } from '../src/store/call-record.js';
import type { ReplayOutcome } from './replay.js';

export interface TurnRow {
  turn: number;
  caller: string | null;
  input: CallerTurn['input'] | null;
  agent: string;
  interrupted: boolean;
  heard: string;
  ttfaMs: number | null;
  endpointMs: number | null;
  sttMs: number | null;
  brainMs: number | null;
  ttsMs: number | null;
  toolCalls: string[];
  slots: Record<string, string>;
}

export interface FixtureReport {
  fixture: string;
  callSid: string;
  pace: 'realtime' | 'max';
  wallMs: number;
  mediaMs: number;
  endReason: string | null;
  bargeIns: number;
  turns: TurnRow[];
  toolCalls: CallRecord['toolCalls'];
  slots: Record<string, string>;
  divergences: string[];
  misses: string[];
  ok: boolean;
}

export function buildReport(outcome: ReplayOutcome, pace: 'realtime' | 'max', misses: string[]): FixtureReport {
  const record = outcome.record;
  const turns: TurnRow[] = [];
  let pendingCaller: CallerTurn | null = null;
  record?.turns.forEach((turn, index) => {
    if (turn.role === 'caller') {
      pendingCaller = turn;
      return;
    }
    const agent = turn as AgentTurn;
    const caller: CallerTurn | null = pendingCaller;
    pendingCaller = null;
    const m = caller?.metrics;
    turns.push({
      turn: turns.length,
      caller: caller ? caller.text : null,
      input: caller ? caller.input : null,
      agent: agent.text,
      interrupted: agent.interrupted,
      heard: agent.heardText,
      ttfaMs: m?.ttfaMs ?? null,
      endpointMs: m?.endpointMs ?? null,
      sttMs: m?.sttMs ?? null,
      brainMs: m?.llmFirstTokenMs ?? null,
      ttsMs: m?.ttsFirstByteMs ?? null,
      toolCalls: outcome.toolCallTurns.flatMap((at, i) => {
        const call = record.toolCalls[i];
        return at === index && call ? [`${call.name}${call.ok ? '' : ' (failed)'}`] : [];
      }),
      slots: Object.fromEntries(Object.entries(outcome.slotTurns).filter(([, at]) => at === index).map(([slot]) => [slot, record.slots[slot] ?? ''])),
    });
  });
  return {
    fixture: outcome.fixture,
    callSid: outcome.callSid,
    pace,
    wallMs: outcome.wallMs,
    mediaMs: outcome.simulator.clockMs,
    endReason: record?.endReason ?? null,
    bargeIns: record?.bargeIns ?? 0,
    turns,
    toolCalls: record?.toolCalls ?? [],
    slots: record?.slots ?? {},
    divergences: outcome.divergences,
    misses,
    ok: misses.length === 0,
  };
}

/** The per-turn table plus the verdict, for the terminal. */
export function formatReport(report: FixtureReport, width = 48): string {
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  const ms = (v: number | null) => (v === null ? '-' : String(v));
  const lines = [`${report.ok ? '✓' : '✗'} ${report.fixture}  (${report.callSid}, ${report.pace}, ${(report.wallMs / 1000).toFixed(1)} s wall, ${(report.mediaMs / 1000).toFixed(1)} s media, end: ${report.endReason ?? '?'}, barge-ins: ${report.bargeIns})`];
  lines.push(`  ${'#'.padStart(2)}  ${'caller heard'.padEnd(26)}  ${'agent reply'.padEnd(width)}  ttfa  endp   stt brain   tts  tools / slots`);
  for (const row of report.turns) {
    const caller = row.caller === null ? (row.turn === 0 ? '(call start)' : '(no input)') : row.input === 'dtmf' ? `[keys] ${row.caller}` : row.caller || `(${row.input})`;
    const agent = (row.interrupted ? '⟂ ' : '') + (row.interrupted ? `${row.heard} ⟂ (of: ${row.agent})` : row.agent);
    const extras = [...row.toolCalls, ...Object.entries(row.slots).map(([k, v]) => `${k}=${v}`)].join(', ');
    lines.push(
      `  ${String(row.turn).padStart(2)}  ${cut(caller, 26).padEnd(26)}  ${cut(agent, width).padEnd(width)} ${ms(row.ttfaMs).padStart(5)} ${ms(row.endpointMs).padStart(5)} ${ms(row.sttMs).padStart(5)} ${ms(row.brainMs).padStart(5)} ${ms(row.ttsMs).padStart(5)}  ${extras}`,
    );
  }
  for (const d of report.divergences) lines.push(`  ! timeline: ${d}`);
  for (const miss of report.misses) lines.push(`  ✗ ${miss}`);
  return lines.join('\n');
}

/** The conversation as one 8 kHz 16-bit mono WAV: caller and agent summed on the media clock. */
export function conversationWav(outcome: ReplayOutcome): Buffer {
  const sim = outcome.simulator;
  const parts = [...sim.callerAudio, ...sim.played];
  const endMs = parts.reduce((end, p) => Math.max(end, p.atMs + p.audio.length / 8), 0);
  const mix = new Int32Array(Math.ceil(endMs * 8));
  for (const part of parts) {
    const pcm = decodeMulaw(part.audio);
    const at = Math.round(part.atMs * 8);
    for (let i = 0; i < pcm.length && at + i < mix.length; i++) mix[at + i]! += pcm[i]!;
  }
  const data = Buffer.alloc(mix.length * 2);
  for (let i = 0; i < mix.length; i++) data.writeInt16LE(Math.max(-32768, Math.min(32767, mix[i]!)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(16000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
