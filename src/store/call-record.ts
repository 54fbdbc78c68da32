/** The call record, exactly as `../shared/CONTRACT.md` describes it (plus a few additive fields). */
import type { CallCost, CallUsage } from '../observability/cost.js';
import type { TransferAttempt } from './transfer-store.js';

export interface TurnMetrics {
  /** End of the caller's speech → first outbound agent audio frame. */
  ttfaMs: number | null;
  /** End of the caller's speech → end-of-turn decision. */
  endpointMs: number | null;
  /** End-of-turn decision → final transcript. */
  sttMs: number | null;
  /** Final transcript → first reply text from the brain. */
  llmFirstTokenMs: number | null;
  /** First reply text → first synthesized audio byte. */
  ttsFirstByteMs: number | null;
}

export interface AgentTurn {
  role: 'agent';
  text: string;
  startedAt: string;
  interrupted: boolean;
  heardText: string;
  /** Times caller speech stopped this reply but was no words or a backchannel, so it played on. */
  resumes?: number;
}

/** One offline recognition pass as recorded (the store's own copy of speech/stt.ts `SttHypothesis`). */
export interface RecordedPass {
  text: string;
  confidence: number;
  acousticScore: number;
  decodeMs: number;
  cpuMs?: number;
}

/** Both offline passes of a caller turn and which one was believed (see speech/stt.ts `Recognition`). */
export interface RecordedRecognition {
  grammar?: RecordedPass;
  open?: RecordedPass;
  chosen: 'grammar' | 'open';
  fit: number;
  snrDb?: number;
}

export interface CallerTurn {
  role: 'caller';
  text: string;
  startedAt: string;
  endedAt: string;
  /** How the turn arrived: speech, keypad, or nothing usable. */
  input: 'speech' | 'dtmf' | 'no-match';
  confidence?: number;
  /** Offline: the grammar pass and the open-vocabulary pass, and which one was believed. */
  recognition?: RecordedRecognition;
  metrics: TurnMetrics;
  /**
   * Where the caller's speech lies on the inbound media clock (ms of audio since the stream's first
   * frame, gaps filled): lets a recording mask exactly this turn's audio.
   */
  audio?: { startMs: number; endMs: number };
}

/** A callSid that may name a stored record (and a file): no path characters, bounded. */
export const CALL_SID = /^[A-Za-z0-9_-]{1,64}$/;

export interface CallRecord {
  callSid: string;
  streamSid: string;
  from: string;
  to: string;
  startedAt: string;
  endedAt: string | null;
  endReason: string | null;
  engines: { stt: string; llm: string; tts: string; vad: string };
  turns: Array<AgentTurn | CallerTurn>;
  toolCalls: ToolCallEntry[];
  slots: Record<string, string>;
  bargeIns: number;
  /** Replies that played on after a false interruption or a backchannel (not counted in bargeIns). */
  resumedReplies?: number;
  /** Stream status callbacks and errors reported by Twilio for this call. */
  streamEvents: Array<{ event: string; error?: string; at: string }>;
  /** Malformed frames dropped on this call, by error code. */
  protocolErrors: Record<string, number>;
  /** Stages that switched to a backup engine during the call (degraded, never silent). */
  fallbacks: Array<{ stage: 'stt' | 'tts' | 'llm'; from: string; to: string; reason: string; at: string }>;
  /** What the call used of each paid provider, and what that cost (set when the call ends). */
  usage: CallUsage;
  cost: CallCost | null;
  /** Hand-offs to a person: outcome, time to human, the whisper the person heard (additive). */
  transfers?: TransferAttempt[];
}

/** One tool run as the call log keeps it (the store's own shape; tools' ToolCallRecord fits it). */
export interface ToolCallEntry {
  name: string;
  args: Record<string, unknown>;
  /** The tool's result, or its failure (`{ code, message }`). */
  result: unknown;
  ms: number;
  ok: boolean;
}
