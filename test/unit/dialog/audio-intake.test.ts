/**
 * The inbound path on a simulated clock: the caller's silence ends the turn whether Twilio keeps
 * sending silence frames (as it does for the whole call) or the wire goes quiet after the words.
 */
import { describe, expect, it } from 'vitest';
import { AudioIntake, QUIET_WIRE_MS } from '../../../src/dialog/audio-intake.js';
import type { SegmenterEvent } from '../../../src/media/vad/speech-segmenter.js';
import type { VadStream, VadWindow } from '../../../src/media/vad/vad.js';
import { ManualScheduler } from '../../../testkit/helpers/manual-scheduler.js';

/** Loud frames are speech, quiet ones silence: one 20 ms window per frame. */
class LoudnessVad implements VadStream {
  async process(pcm: Int16Array): Promise<VadWindow[]> {
    const loud = pcm.some((s) => Math.abs(s) > 1000);
    return [{ probability: loud ? 0.9 : 0.05, durationMs: pcm.length / 8 }];
  }
  close(): void {}
}

const SPEECH = new Uint8Array(160).fill(0x00);
const SILENCE = new Uint8Array(160).fill(0xff);
const config = { threshold: 0.5, hysteresis: 0.15, onsetMs: 60, minBargeInMs: 200, endSilenceMs: 600, pauseMs: 200 };
const flush = () => new Promise((r) => setImmediate(r));

function setup() {
  const scheduler = new ManualScheduler();
  const events: Array<SegmenterEvent & { at: number; lastWordAudioMs?: number }> = [];
  const intake: AudioIntake = new AudioIntake(
    new LoudnessVad(),
    config,
    {
      onFrame: () => undefined,
      onEvent: (e) => events.push({ ...e, at: scheduler.now(), ...(e.type === 'speech-end' ? { lastWordAudioMs: intake.speechEndAudioMs(e.trailingMs) } : {}) }),
      onError: (e) => {
        throw e;
      },
    },
    scheduler,
  );
  /** Send `frames` frames of `audio`, one per 20 ms of simulated time. */
  const send = async (audio: Uint8Array, frames: number) => {
    for (let i = 0; i < frames; i++) {
      intake.push(audio);
      await flush();
      scheduler.advance(20);
    }
  };
  const wait = async (ms: number) => {
    for (let t = 0; t < ms; t += 10) {
      scheduler.advance(10);
      await flush();
    }
  };
  const types = () => events.map((e) => e.type);
  return { scheduler, intake, events, send, wait, types };
}

describe('audio intake: the end of the caller turn on a simulated clock', () => {
  it('Twilio keeps sending silence: the turn ends after endSilenceMs of silence frames', async () => {
    const t = setup();
    await t.send(SPEECH, 20);
    const spokeUntil = t.scheduler.now();
    await t.send(SILENCE, 40);
    expect(t.types()).toEqual(['speech-start', 'barge-in-eligible', 'speech-pause', 'speech-end']);
    const end = t.events.at(-1)!;
    expect(end.type === 'speech-end' && end.trailingMs).toBe(600);
    expect(end.at - spokeUntil).toBeGreaterThanOrEqual(580);
    expect(end.at - spokeUntil).toBeLessThanOrEqual(620);
    expect(end.lastWordAudioMs).toBe(400); // on the media clock: 20 frames of speech
  });

  it('the wire goes quiet after the words: time alone ends the turn, once', async () => {
    const t = setup();
    await t.send(SPEECH, 20);
    const spokeUntil = t.scheduler.now() - 20; // the last frame arrived here
    await t.wait(2000);
    expect(t.types()).toEqual(['speech-start', 'barge-in-eligible', 'speech-pause', 'speech-end']);
    const pause = t.events[2]!;
    const end = t.events[3]!;
    expect(pause.at - spokeUntil).toBeGreaterThanOrEqual(200);
    expect(pause.at - spokeUntil).toBeLessThanOrEqual(200 + 40);
    expect(end.at - spokeUntil).toBeGreaterThanOrEqual(600);
    expect(end.at - spokeUntil).toBeLessThanOrEqual(600 + 40);
    // The last word is where the audio stopped, not where the quiet wire's silence ends.
    expect(end.lastWordAudioMs).toBe(400);
    expect(t.scheduler.timers).toBe(0);
  });

  it('a longer wait chosen at the pause holds on a quiet wire, a shorter one ends at once', async () => {
    const t = setup();
    await t.send(SPEECH, 20);
    const spokeUntil = t.scheduler.now();
    await t.wait(250);
    t.intake.endTurnAfter(1200); // "I would like to…"
    await t.wait(700);
    expect(t.types()).not.toContain('speech-end');
    t.intake.endTurnAfter(250); // the rest of the words arrived: a whole request
    expect(t.types().at(-1)).toBe('speech-end');
    expect(t.events.at(-1)!.at - spokeUntil).toBeGreaterThanOrEqual(950);
  });

  it('the caller speaking again cancels the wait, and nothing fires while the wire is quiet between turns', async () => {
    const t = setup();
    await t.wait(3000);
    expect(t.events).toEqual([]);
    expect(t.scheduler.timers).toBe(0);
    await t.send(SPEECH, 10);
    await t.wait(300);
    await t.send(SPEECH, 10);
    await t.wait(300);
    expect(t.types().filter((x) => x === 'speech-end')).toEqual([]);
    await t.wait(400);
    expect(t.types().filter((x) => x === 'speech-end')).toHaveLength(1);
  });

  it('frames still waiting for the VAD are not a quiet wire', async () => {
    const scheduler = new ManualScheduler();
    let release: (() => void) | null = null;
    const slow: VadStream = {
      process: (pcm) => new Promise((resolve) => (release = () => resolve([{ probability: pcm.some((s) => Math.abs(s) > 1000) ? 0.9 : 0.05, durationMs: 20 }]))),
      close: () => undefined,
    };
    const events: string[] = [];
    const intake = new AudioIntake(slow, config, { onFrame: () => undefined, onEvent: (e) => events.push(e.type), onError: () => undefined }, scheduler);
    for (let i = 0; i < 10; i++) {
      intake.push(SPEECH);
      await flush();
      release!();
      await flush();
      scheduler.advance(20);
    }
    intake.push(SPEECH); // stuck in the VAD
    await flush();
    scheduler.advance(QUIET_WIRE_MS + 1000);
    await flush();
    expect(events).not.toContain('speech-end');
    release!();
    await flush();
    intake.close();
  });
});
