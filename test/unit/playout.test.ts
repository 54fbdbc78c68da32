import { describe, expect, it } from 'vitest';
import { heardText, Playout, type PlayoutSink } from '../../src/media/playout.js';

class RecordingSink implements PlayoutSink {
  readonly sent: Array<{ kind: 'media'; bytes: number } | { kind: 'mark'; name: string } | { kind: 'clear' }> = [];
  sendMedia(mulaw: Uint8Array): void {
    this.sent.push({ kind: 'media', bytes: mulaw.length });
  }
  sendMark(name: string): void {
    this.sent.push({ kind: 'mark', name });
  }
  sendClear(): void {
    this.sent.push({ kind: 'clear' });
  }
  marks(): string[] {
    return this.sent.flatMap((m) => (m.kind === 'mark' ? [m.name] : []));
  }
  mediaBytes(): number[] {
    return this.sent.flatMap((m) => (m.kind === 'media' ? [m.bytes] : []));
  }
}

function setup(maxLeadMs = 300, chunkMs = 100) {
  let clock = 0;
  const sink = new RecordingSink();
  const firstAudio: number[] = [];
  const playout = new Playout({ sink, maxLeadMs, chunkMs, now: () => clock, onFirstAudio: (id) => firstAudio.push(id) });
  return { sink, playout, firstAudio, advance: (ms: number) => (clock += ms) };
}

const audio = (ms: number) => new Uint8Array(ms * 8).fill(0x10);

describe('Playout framing', () => {
  it('sends whole 20 ms frames and pads only the end of the utterance', async () => {
    const { sink, playout } = setup(10_000, 100);
    const id = playout.begin();
    playout.append(id, new Uint8Array(500), 'Hello there.'); // 62.5 ms
    expect(sink.mediaBytes()).toEqual([480]); // three whole frames, the rest waits
    playout.append(id, new Uint8Array(500), 'Hello there.');
    expect(sink.mediaBytes()).toEqual([480, 480]);
    void playout.finish(id);
    expect(sink.mediaBytes()).toEqual([480, 480, 160]); // 40 bytes left → one padded frame
    expect(sink.mediaBytes().every((b) => b % 160 === 0)).toBe(true);
    expect(sink.marks().at(-1)).toMatch(/:end$/);
  });

  it('sends chunkMs per message', () => {
    const { sink, playout } = setup(10_000, 100);
    const id = playout.begin();
    playout.append(id, audio(1000), 'A long sentence.');
    expect(sink.mediaBytes()).toEqual(Array(10).fill(800));
  });
});

describe('Playout lead bound', () => {
  it('never keeps more than maxLeadMs unconfirmed at Twilio, and mark echoes release more', () => {
    const { sink, playout } = setup(300, 100);
    const id = playout.begin();
    playout.append(id, audio(1000), 'One second of speech.');
    expect(sink.mediaBytes()).toEqual([800, 800, 800]);
    const firstMark = sink.marks()[0]!;
    playout.onMark(firstMark);
    expect(sink.mediaBytes()).toHaveLength(4);
    // Echo everything as it "plays": the whole second goes out, never more than 3 chunks ahead.
    let echoed = 1;
    while (echoed < sink.marks().length) {
      const unconfirmed = sink.mediaBytes().length - echoed;
      expect(unconfirmed).toBeLessThanOrEqual(3);
      playout.onMark(sink.marks()[echoed++]!);
    }
    expect(sink.mediaBytes().reduce((a, b) => a + b, 0)).toBe(8000);
  });
});

describe('Playout accounting', () => {
  it('resolves finish() as played once the final mark is echoed', async () => {
    const { sink, playout, firstAudio } = setup(10_000, 100);
    const id = playout.begin();
    playout.append(id, audio(200), 'Hi.');
    const done = playout.finish(id);
    expect(firstAudio).toEqual([id]);
    expect(playout.isPlaying).toBe(true);
    for (const name of sink.marks()) playout.onMark(name);
    await expect(done).resolves.toBe('played');
    expect(playout.isPlaying).toBe(false);
    expect(playout.heard(id)?.heardText).toBe('Hi.');
  });

  it('clear drops the queue, sends clear, and clear-echoed marks are not counted as played', async () => {
    const { sink, playout, advance } = setup(10_000, 100);
    const id = playout.begin();
    playout.append(id, audio(400), 'First sentence here.');
    playout.append(id, audio(400), 'Second sentence is longer than that.');
    const done = playout.finish(id);
    const marks = sink.marks();
    playout.onMark(marks[0]!); // 100 ms played
    playout.onMark(marks[1]!); // 200 ms played
    advance(0);
    const [report] = playout.clear();
    expect(sink.sent.at(-1)).toEqual({ kind: 'clear' });
    expect(report?.outcome).toBe('cleared');
    expect(report?.playedMs).toBe(200);
    expect(report?.heardText).toBe('First'); // half of 3 words, rounded down: never claim unheard words
    // Twilio now echoes every outstanding mark because of the clear: none counts as played.
    for (const name of marks.slice(2)) playout.onMark(name);
    await expect(done).resolves.toBe('cleared');
    expect(playout.heard(id)?.playedMs).toBe(200);
    expect(playout.isPlaying).toBe(false);
  });

  it('estimates playback between mark echoes from the clock', () => {
    const { playout, advance } = setup(10_000, 100);
    const id = playout.begin();
    playout.append(id, audio(1000), 'one two three four five six seven eight nine ten');
    advance(450);
    const [report] = playout.clear();
    expect(report?.playedMs).toBe(450);
    expect(report?.heardText).toBe('one two three four');
  });

  it('a new utterance after a clear is accounted in the new generation', async () => {
    const { sink, playout } = setup(10_000, 100);
    const first = playout.begin();
    playout.append(first, audio(300), 'Old.');
    const oldMarks = sink.marks();
    playout.clear();
    const second = playout.begin();
    playout.append(second, audio(100), 'New.');
    const done = playout.finish(second);
    for (const name of oldMarks) playout.onMark(name); // late clear echoes
    expect(playout.heard(second)?.playedMs).toBe(0);
    for (const name of sink.marks().filter((n) => !oldMarks.includes(n))) playout.onMark(name);
    await expect(done).resolves.toBe('played');
  });

  it('clear with nothing playing sends nothing', () => {
    const { sink, playout } = setup();
    expect(playout.clear()).toEqual([]);
    expect(sink.sent).toEqual([]);
  });

  it('utterances play in order: the second waits until the first has all its audio', () => {
    const { sink, playout } = setup(10_000, 100);
    const a = playout.begin();
    const b = playout.begin();
    playout.append(b, audio(100), 'B.');
    expect(sink.mediaBytes()).toEqual([]);
    playout.append(a, audio(100), 'A.');
    void playout.finish(a);
    expect(sink.mediaBytes()).toEqual([800, 800]);
  });
});

describe('heardText', () => {
  const segments = [
    { text: 'Hello there.', startByte: 0, endByte: 800 },
    { text: 'How can I help you today?', startByte: 800, endByte: 2400 },
  ];
  it.each([
    [0, ''],
    [400, 'Hello'],
    [800, 'Hello there.'],
    [1600, 'Hello there. How can I'],
    [2400, 'Hello there. How can I help you today?'],
  ])('%i bytes played → %j', (played, text) => {
    expect(heardText(segments, played)).toBe(text);
  });
});

describe('Playout suspend and resume (false interruptions, backchannels)', () => {
  /** Three 1 s sentences; marks echoed for the first `playedMs` (100 ms chunks). */
  function playing(playedMs: number) {
    echoed.clear();
    const t = setup(300, 100);
    const id = t.playout.begin();
    t.playout.append(id, audio(1000), 'First sentence here.');
    t.playout.append(id, audio(1000), 'Second sentence here.');
    t.playout.append(id, audio(1000), 'Third sentence here.');
    const done = t.playout.finish(id);
    for (let played = 0; played < playedMs; played += 100) {
      const mark = t.sink.marks().find((m) => !echoed.has(m))!;
      echoed.add(mark);
      t.advance(100);
      t.playout.onMark(mark);
    }
    return { ...t, id, done };
  }
  const echoed = new Set<string>();

  it('suspend clears Twilio, reports what was heard and holds the rest', () => {
    const { sink, playout } = playing(1500);
    const report = playout.suspend();
    expect(sink.sent.at(-1)).toEqual({ kind: 'clear' });
    expect(report?.playedMs).toBe(1500);
    expect(report?.heardText).toBe('First sentence here. Second');
    expect(playout.isPlaying).toBe(false);
    expect(playout.isSuspended).toBe(true);
    const before = sink.sent.length;
    playout.append(1, audio(200), 'Third sentence here.');
    expect(sink.sent.length).toBe(before); // held: nothing goes out
  });

  it('resumes at the start of the sentence the caller was in when it had only just begun', async () => {
    const { sink, playout, id, done } = playing(1500);
    playout.suspend();
    const sentBefore = sink.mediaBytes().reduce((a, b) => a + b, 0);
    expect(playout.resume({ backupMs: 300, restartSentenceMs: 800 })).toBe(1000);
    expect(playout.isPlaying).toBe(true);
    const resent = sink.mediaBytes().reduce((a, b) => a + b, 0) - sentBefore;
    expect(resent).toBe(300 * 8); // lead bound again, from 1000 ms on
    // Play the rest out: the utterance ends as played, with every word heard.
    for (;;) {
      const mark = sink.marks().find((m) => !echoed.has(m) && m.startsWith('g1:'));
      if (!mark) break;
      echoed.add(mark);
      playout.onMark(mark);
    }
    expect(await done).toBe('played');
    expect(playout.heard(id)?.heardText).toBe('First sentence here. Second sentence here. Third sentence here.');
  });

  it('backs up a little when the caller was well into a sentence', () => {
    const { playout } = playing(1900);
    playout.suspend();
    expect(playout.resume({ backupMs: 300, restartSentenceMs: 800 })).toBe(1600);
  });

  it('never backs up into the previous sentence', () => {
    const { playout } = playing(2100);
    playout.suspend();
    expect(playout.resume({ backupMs: 500, restartSentenceMs: 0 })).toBe(2000);
  });

  it('a real interruption after a suspend clears the held utterance without a second clear', async () => {
    const { sink, playout, done } = playing(500);
    playout.suspend();
    const clears = sink.sent.filter((m) => m.kind === 'clear').length;
    const [report] = playout.clear();
    expect(report?.heardText).toBe('First');
    expect(sink.sent.filter((m) => m.kind === 'clear').length).toBe(clears);
    expect(await done).toBe('cleared');
  });

  it('audio arriving while held is played after the resume', () => {
    const t = setup(10_000, 100);
    const id = t.playout.begin();
    t.playout.append(id, audio(500), 'One.');
    t.playout.suspend();
    t.playout.append(id, audio(500), 'Two.');
    t.playout.resume({ backupMs: 0, restartSentenceMs: 0 });
    const afterClear = t.sink.sent.slice(t.sink.sent.findIndex((m) => m.kind === 'clear') + 1);
    expect(afterClear.filter((m) => m.kind === 'media').reduce((a, m) => a + (m.kind === 'media' ? m.bytes : 0), 0)).toBe(8000);
  });

  it('nothing to suspend or resume when idle', () => {
    const { playout } = setup();
    expect(playout.suspend()).toBeNull();
    expect(playout.resume({ backupMs: 300, restartSentenceMs: 800 })).toBeNull();
  });
});
