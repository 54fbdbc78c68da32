/**
 * Replays the caller side of a fixture into a server and collects what the server did.
 *
 * Timing: each caller item (frame, key, hang-up) is sent when the replayed call reaches the point it
 * was recorded at: "after agent utterance u finished" or "while utterance u played, at x ms of it"
 * (caller-script.ts). Because the recording holds the continuous 20 ms stream, the caller's pauses
 * are in the data itself; only the agent's timing varies, and the anchors absorb it. A wait that
 * sees no server activity for `stallMs` is recorded as a divergence and the item is sent anyway.
 */
import type { CallRecord } from '../src/store/call-record.js';
import type { Anchor } from '../testkit/twilio/agent-utterances.js';
import { callerScript } from './caller-script.js';
import { isDigitalSilence, type Fixture } from '../src/recording/fixture-format.js';
import { FakeTwilioCaller, type CallerStep } from '../testkit/twilio/fake-twilio-caller.js';

export interface ReplayOptions {
  /** ws://host:port/media */
  url: string;
  pace: 'realtime' | 'max';
  /** The server's call record, live or final (undefined while unknown). */
  fetchRecord: (callSid: string) => Promise<CallRecord | undefined>;
  /** Give up waiting for the agent after this long without a message from the server, ms. */
  stallMs?: number;
  onProgress?: (progress: { sentMs: number; totalMs: number; agentUtterances: number }) => void;
}

export interface ReplayOutcome {
  fixture: string;
  callSid: string;
  record: CallRecord | undefined;
  /** For each tool call in the record, the index (in record.turns) of the agent turn that made it. */
  toolCallTurns: number[];
  /** For each confirmed slot, the agent turn index at which it appeared. */
  slotTurns: Record<string, number>;
  divergences: string[];
  wallMs: number;
  simulator: FakeTwilioCaller;
}

export async function replayFixture(fixture: Fixture, options: ReplayOptions): Promise<ReplayOutcome> {
  const script = callerScript(fixture);
  const stallMs = options.stallMs ?? 12_000;
  const start = fixture.events.find((e) => e.dir === 'in' && e.ev === 'start');
  const customParameters = start && start.dir === 'in' && start.ev === 'start' ? { ...start.customParameters } : {};
  delete customParameters.callSid;
  const { from, to, ...parameters } = customParameters;
  const sim = new FakeTwilioCaller({ url: options.url, playback: 'media-clock', pace: options.pace, from: from ?? '', to: to ?? '', parameters });
  const startedAt = performance.now();
  await sim.start();

  const divergences: string[] = [];
  let index = 0;
  let waitingSince: number | null = null;
  let lastServerActivity = performance.now();
  let seenOutbound = 0;
  let sentMs = 0;
  let lastProgress = 0;

  const satisfied = (anchor: Anchor): boolean => {
    const u = sim.utterances;
    if (u.ended >= anchor.u) return true;
    if (anchor.kind === 'idle') return false;
    return u.started >= anchor.u && sim.playedMs(anchor.u) + 20 > anchor.atMs;
  };

  const next = (): CallerStep => {
    if (sim.received.length !== seenOutbound) {
      seenOutbound = sim.received.length;
      lastServerActivity = performance.now();
    }
    const now = performance.now();
    if (options.onProgress && now - lastProgress > 250) {
      lastProgress = now;
      options.onProgress({ sentMs, totalMs: script.mediaMs, agentUtterances: sim.utterances.started });
    }
    const item = script.items[index];
    if (!item) {
      // The caller hung up: Twilio closes the socket right after `stop`.
      if (script.callerHungUp) return 'done';
      // Otherwise let the agent finish (its goodbye) until the server hangs up or goes quiet.
      return now - lastServerActivity > stallMs ? 'done' : 'wait';
    }
    if (!satisfied(item.anchor)) {
      waitingSince ??= now;
      if (now - lastServerActivity < stallMs) return 'wait';
      divergences.push(
        `waited ${Math.round(now - waitingSince)} ms for agent ${describe(item.anchor)} (recorded at ${item.t} ms; ` +
          `agent utterances started ${sim.utterances.started}, ended ${sim.utterances.ended}); sent the caller's next input anyway`,
      );
      lastServerActivity = now;
    }
    waitingSince = null;
    index++;
    if (item.item.kind === 'frame') sentMs += 20;
    return { send: item.item };
  };

  // Tool calls and slots are not timestamped in the record: attribute them to the agent turn that
  // was current when they appeared, by watching the live record.
  const toolCallTurns: number[] = [];
  const slotTurns: Record<string, number> = {};
  let polling = false;
  const watch = async () => {
    if (polling) return;
    polling = true;
    try {
      const live = await options.fetchRecord(sim.callSid);
      if (live) attribute(live, toolCallTurns, slotTurns);
    } catch {
      // A missed poll only makes attribution coarser.
    } finally {
      polling = false;
    }
  };
  const poller = setInterval(() => void watch(), 50);
  try {
    await sim.drive(next);
    if (!sim.isClosed) {
      // Give the server a moment to act on the hang-up before the socket goes away, as Twilio does.
      await sim.serverActivity(100);
      sim.close();
    }
    await sim.closed();
  } finally {
    clearInterval(poller);
  }
  const record = await finalRecord(sim.callSid, options.fetchRecord);
  if (record) attribute(record, toolCallTurns, slotTurns);
  // Silence still in flight when the server hung up is normal; speech, keys or a hang-up are not.
  const unsent = script.items.slice(index).filter(({ item }) => item.kind === 'dtmf' || (item.kind === 'frame' && !isDigitalSilence(item.audio)));
  if (unsent.length > 0) divergences.push(`the server ended the call with ${unsent.length} caller input(s) still to send`);
  return { fixture: fixture.name, callSid: sim.callSid, record, toolCallTurns, slotTurns, divergences, wallMs: Math.round(performance.now() - startedAt), simulator: sim };
}

function attribute(record: CallRecord, toolCallTurns: number[], slotTurns: Record<string, number>): void {
  const lastAgent = record.turns.findLastIndex((t) => t.role === 'agent');
  for (let i = toolCallTurns.length; i < record.toolCalls.length; i++) toolCallTurns.push(lastAgent);
  for (const slot of Object.keys(record.slots)) slotTurns[slot] ??= lastAgent;
}

async function finalRecord(callSid: string, fetchRecord: ReplayOptions['fetchRecord']): Promise<CallRecord | undefined> {
  let record: CallRecord | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    record = await fetchRecord(callSid).catch(() => undefined);
    if (record?.endedAt) return record;
    await new Promise((r) => setTimeout(r, 100));
  }
  return record;
}

function describe(anchor: Anchor): string {
  return anchor.kind === 'idle' ? `utterance ${anchor.u} to finish` : `utterance ${anchor.u} to reach ${anchor.atMs} ms`;
}
