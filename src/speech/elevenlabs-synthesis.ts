/**
 * One ElevenLabs reply ("synthesis turn") as a pure state machine: `reduceSynthesis(state, event)`
 * returns the next state and the commands to run, like the dialog's turn machine. The adapter
 * (elevenlabs-tts.ts) is the thin executor: it owns the socket, the timers and the HTTP stream,
 * turns their callbacks into events, and runs the commands in order.
 *
 * A reply starts on the multi-context socket (one context per reply) and continues over HTTP from
 * the word being spoken when the socket cannot connect, drops or stalls. Pieces found in the
 * prompt cache are played from memory in their place. Audio is attributed to pieces by the
 * socket's per-character alignment (piece-alignment.ts).
 */
import type { ContextEvent } from './elevenlabs-socket.js';
import { sliceByAlignment, unrenderedText, visibleLength, type PieceProgress } from './piece-alignment.js';

export type ElevenLabsFallbackReason = 'connect-failed' | 'socket-unavailable' | 'socket-lost' | 'stalled';

export interface SynthesisPiece extends PieceProgress {
  route: 'socket' | 'cache' | 'http';
  sent: boolean;
  cached?: readonly Uint8Array[];
  /** What HTTP still has to render after a socket failure mid-piece. */
  remainder?: string;
}

export interface SynthesisState {
  readonly pieces: readonly SynthesisPiece[];
  /** Pieces before it are fully played. */
  readonly cursor: number;
  readonly mode: 'idle' | 'connecting' | 'socket' | 'http';
  /** The reply's socket context while it is open. */
  readonly contextId: string | null;
  readonly inputEnded: boolean;
  readonly endSent: boolean;
  readonly finalSeen: boolean;
  readonly heardAudio: boolean;
  readonly sentSinceAudio: boolean;
  readonly watchdogArmed: boolean;
}

export const INITIAL_SYNTHESIS: SynthesisState = {
  pieces: [],
  cursor: 0,
  mode: 'idle',
  contextId: null,
  inputEnded: false,
  endSent: false,
  finalSeen: false,
  heardAudio: false,
  sentSinceAudio: false,
  watchdogArmed: false,
};

export type SynthesisEvent =
  /** A piece of reply text; `cached` is its audio when the prompt cache has it. */
  | { type: 'piece'; text: string; cached?: readonly Uint8Array[] | undefined }
  | { type: 'input-end' }
  | { type: 'input-failed'; error: unknown }
  /** The socket is connected and has a free context slot. */
  | { type: 'socket-ready'; contextId: string }
  /** The context was opened; `gone` when the socket died meanwhile. */
  | { type: 'context-opened'; gone: boolean }
  | { type: 'socket-failed'; reason: ElevenLabsFallbackReason; detail: string }
  /** From the reply's context. `adapterClosed`: the adapter is shutting down (not a failure). */
  | { type: 'context'; event: ContextEvent; adapterClosed: boolean }
  /** The watchdog fired: audio owed for too long. */
  | { type: 'stall' }
  | { type: 'abort' };

export type SynthesisCommand =
  | { type: 'connect' }
  | { type: 'open-context'; contextId: string }
  | { type: 'send-text'; contextId: string; text: string }
  | { type: 'end-context'; contextId: string }
  | { type: 'cancel-context'; contextId: string }
  | { type: 'start-keep-alive'; contextId: string }
  | { type: 'stop-timers' }
  | { type: 'arm-watchdog'; ms: number }
  | { type: 'disarm-watchdog' }
  /** Back off the socket for a while (new replies go straight to HTTP). */
  | { type: 'note-socket-failure' }
  | { type: 'terminate-socket'; reason: string }
  | { type: 'report-fallback'; reason: ElevenLabsFallbackReason; detail: string }
  /** Play audio that is already here (socket or cache). */
  | { type: 'play'; audio: Uint8Array; text: string }
  /** Render `text` over HTTP and play it, attributed to `pieceText`. */
  | { type: 'render-http'; text: string; pieceText: string }
  | { type: 'finish' }
  | { type: 'fail'; error: unknown };

export interface SynthesisTiming {
  /** Until the first audio of the reply, ms. */
  firstAudioMs: number;
  /** Longest gap between audio messages while audio is owed, ms. */
  idleMs: number;
}

interface Draft {
  pieces: SynthesisPiece[];
  cursor: number;
  mode: SynthesisState['mode'];
  contextId: string | null;
  inputEnded: boolean;
  endSent: boolean;
  finalSeen: boolean;
  heardAudio: boolean;
  sentSinceAudio: boolean;
  watchdogArmed: boolean;
}

export function reduceSynthesis(state: SynthesisState, event: SynthesisEvent, timing: SynthesisTiming): [SynthesisState, SynthesisCommand[]] {
  // Pieces are copied so alignment can advance their counts without touching the caller's state.
  const s: Draft = { ...state, pieces: state.pieces.map((p) => ({ ...p })) };
  const out: SynthesisCommand[] = [];
  if (event.type === 'abort') {
    if (s.contextId && !s.finalSeen) out.push({ type: 'cancel-context', contextId: s.contextId });
    s.contextId = null;
    out.push({ type: 'finish' });
    return [s, out];
  }
  if (handle(s, event, timing, out) === 'stop') return [s, out];
  drain(s, out);
  armWatchdog(s, timing, false, out);
  const awaitingSocket = s.mode === 'connecting' || (s.mode === 'socket' && !s.finalSeen);
  if (s.inputEnded && s.cursor >= s.pieces.length && !awaitingSocket) out.push({ type: 'finish' });
  return [s, out];
}

function handle(s: Draft, event: Exclude<SynthesisEvent, { type: 'abort' }>, timing: SynthesisTiming, out: SynthesisCommand[]): 'stop' | void {
  switch (event.type) {
    case 'piece':
      return addPiece(s, event.text, event.cached, out);
    case 'input-end':
      s.inputEnded = true;
      if (s.mode === 'socket') sendEnd(s, out);
      return;
    case 'input-failed':
      out.push({ type: 'fail', error: event.error });
      return 'stop';
    case 'socket-ready':
      if (s.mode !== 'connecting') return;
      s.contextId = event.contextId;
      out.push({ type: 'open-context', contextId: event.contextId });
      return;
    case 'context-opened':
      if (s.mode !== 'connecting') return;
      if (event.gone) return switchToHttp(s, 'socket-lost', 'socket closed while opening the context', out);
      s.mode = 'socket';
      for (const piece of s.pieces) if (piece.route === 'socket' && !piece.sent) sendPiece(s, piece, out);
      if (s.inputEnded) sendEnd(s, out);
      if (s.contextId) out.push({ type: 'start-keep-alive', contextId: s.contextId });
      return;
    case 'socket-failed':
      return switchToHttp(s, event.reason, event.detail, out);
    case 'context':
      return onContext(s, event.event, event.adapterClosed, timing, out);
    case 'stall':
      if (s.mode !== 'socket') return;
      out.push({ type: 'note-socket-failure' });
      switchToHttp(s, 'stalled', `no audio from the socket for ${s.heardAudio ? timing.idleMs : timing.firstAudioMs} ms`, out);
      out.push({ type: 'terminate-socket', reason: 'stalled' });
      return;
  }
}

function addPiece(s: Draft, text: string, cached: readonly Uint8Array[] | undefined, out: SynthesisCommand[]): void {
  const weight = visibleLength(text);
  if (weight === 0) return;
  const route = cached ? 'cache' : s.mode === 'http' ? 'http' : 'socket';
  const piece: SynthesisPiece = { text, weight, rendered: 0, route, sent: false, ...(cached ? { cached } : {}) };
  s.pieces.push(piece);
  if (route === 'socket' && s.mode === 'socket') sendPiece(s, piece, out);
  if (route === 'socket' && s.mode === 'idle') {
    s.mode = 'connecting';
    out.push({ type: 'connect' });
  }
}

function onContext(s: Draft, event: ContextEvent, adapterClosed: boolean, timing: SynthesisTiming, out: SynthesisCommand[]): 'stop' | void {
  if (event.type === 'audio') {
    s.heardAudio = true;
    s.sentSinceAudio = false;
    const open = s.pieces.slice(s.cursor).filter((p) => p.route === 'socket');
    for (const slice of sliceByAlignment(event.audio, event.alignment, open)) {
      drain(s, out, slice.piece);
      out.push({ type: 'play', audio: slice.audio, text: slice.piece.text });
    }
    armWatchdog(s, timing, true, out);
  } else if (event.type === 'final') {
    s.finalSeen = true;
    out.push({ type: 'stop-timers' });
    s.watchdogArmed = false;
    // The server ended the context before we did (e.g. its inactivity timeout): carry on over HTTP.
    if (!s.endSent) switchToHttp(s, 'socket-lost', 'context closed by the server mid-turn', out);
  } else if (!s.finalSeen) {
    if (adapterClosed) {
      out.push({ type: 'finish' });
      return 'stop';
    }
    out.push({ type: 'note-socket-failure' });
    switchToHttp(s, 'socket-lost', event.reason, out);
  }
}

function sendPiece(s: Draft, piece: SynthesisPiece, out: SynthesisCommand[]): void {
  if (!s.contextId) return;
  out.push({ type: 'send-text', contextId: s.contextId, text: piece.text });
  piece.sent = s.sentSinceAudio = true;
}

function sendEnd(s: Draft, out: SynthesisCommand[]): void {
  if (!s.contextId || s.endSent) return;
  out.push({ type: 'end-context', contextId: s.contextId });
  s.endSent = true;
}

function switchToHttp(s: Draft, reason: ElevenLabsFallbackReason, detail: string, out: SynthesisCommand[]): void {
  out.push({ type: 'report-fallback', reason, detail });
  if (s.contextId && !s.finalSeen) out.push({ type: 'cancel-context', contextId: s.contextId });
  s.contextId = null;
  out.push({ type: 'stop-timers' });
  s.watchdogArmed = false;
  s.mode = 'http';
  for (const piece of s.pieces.slice(s.cursor)) {
    if (piece.route !== 'socket') continue;
    piece.route = 'http';
    piece.remainder = unrenderedText(piece);
  }
}

/**
 * Armed only while audio is owed for text sent since the last audio, or for the end of the reply:
 * a piece whose aligned characters fall short of our count must not look like a stall.
 */
function armWatchdog(s: Draft, timing: SynthesisTiming, restart: boolean, out: SynthesisCommand[]): void {
  const owed = s.mode === 'socket' && !s.finalSeen && (s.sentSinceAudio || s.endSent);
  if ((!owed || restart) && s.watchdogArmed) {
    out.push({ type: 'disarm-watchdog' });
    s.watchdogArmed = false;
  }
  if (owed && !s.watchdogArmed) {
    out.push({ type: 'arm-watchdog', ms: s.heardAudio ? timing.idleMs : timing.firstAudioMs });
    s.watchdogArmed = true;
  }
}

/**
 * A socket piece is done when its context ended, or when its characters are all heard and the next
 * socket piece has begun (so a cached piece between them plays in the right place).
 */
function socketPieceDone(s: Draft, index: number): boolean {
  if (s.finalSeen) return true;
  const piece = s.pieces[index]!;
  if (piece.rendered < piece.weight) return false;
  const next = s.pieces.slice(index + 1).find((p) => p.route === 'socket');
  return next !== undefined && next.rendered > 0;
}

/** Plays every piece that can play now, in order, up to (not including) `stopAt`. */
function drain(s: Draft, out: SynthesisCommand[], stopAt?: SynthesisPiece): void {
  while (s.cursor < s.pieces.length) {
    const piece = s.pieces[s.cursor]!;
    if (piece === stopAt) return;
    if (piece.route === 'cache') {
      for (const audio of piece.cached ?? []) out.push({ type: 'play', audio: audio.slice(), text: piece.text });
    } else if (piece.route === 'http') {
      out.push({ type: 'render-http', text: piece.remainder ?? piece.text, pieceText: piece.text });
    } else if (!socketPieceDone(s, s.cursor)) {
      return;
    }
    s.cursor++;
  }
}
