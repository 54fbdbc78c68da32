/**
 * The browser phone in a real headless Chromium: Chrome's fake microphone plays a generated WAV
 * (silence, ~1 s of loud voice-like sound, silence) into the page, which speaks Media Streams to the
 * server running the scripted engines. Needs Debian's `chromium` (`apt-get install -y chromium`);
 * without /usr/bin/chromium the test is skipped with a message, never silently passed.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { BrainInput } from '../../src/dialog/brain.js';
import type { AgentTurn, CallerTurn, CallRecord } from '../../src/store/call-record.js';
import { AmplitudeVad, ScriptedBrain, ScriptedStt, WordLengthTts } from '../../testkit/fakes/scripted-engines.js';
import { startTestServer, type TestServer } from '../../testkit/helpers/test-app.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = 'test-artifacts/browser-phone.png';
const REPLY = 'Sure, Tuesday at nine works.';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser phone test SKIPPED: ${CHROMIUM} not found (install it: apt-get install -y chromium)`);

/** What the page functions below touch (the project's tsconfig has no DOM lib, on purpose). */
interface PhoneStats {
  callSid: string;
  framesSent: number;
  mediaBytesReceived: number;
  marksReceived: number;
  marksEchoed: number;
  clearsReceived: number;
}
interface PageGlobals {
  document: { querySelector(selector: string): { textContent: string | null } | null };
  phoneStats: PhoneStats;
}

/** 16-bit PCM mono WAV; `segments` are [seconds, loud?] in order. */
function callerWav(rate: number, segments: Array<[number, boolean]>): Buffer {
  const samples: number[] = [];
  for (const [seconds, loud] of segments) {
    const n = Math.round(seconds * rate);
    for (let i = 0; i < n; i++) {
      if (!loud) {
        samples.push(0);
        continue;
      }
      // A 140 Hz voice-like buzz (a few harmonics, slight vibrato, syllable-rate swell): loud to the
      // amplitude VAD, and not a steady tone that noise suppression would learn and remove.
      const t = i / rate;
      const f0 = 140 + 8 * Math.sin(2 * Math.PI * 5 * t);
      const swell = 0.7 + 0.3 * Math.sin(2 * Math.PI * 4 * t);
      let v = 0;
      for (let h = 1; h <= 6; h++) v += Math.sin(2 * Math.PI * f0 * h * t) / h;
      samples.push(Math.round(0.35 * swell * v * 32767 * 0.8));
    }
  }
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => data.writeInt16LE(Math.max(-32768, Math.min(32767, s)), i * 2));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

const LONG_REPLY =
  'We have openings on Tuesday morning, Wednesday afternoon and Thursday at any time, and on Friday ' +
  'before noon; which of those days would suit you best, and do you prefer the morning or the afternoon?';

interface Phone {
  page: Page;
  problems: string[];
  state(): Promise<string>;
}

describe.skipIf(!hasChromium)('browser phone in headless Chromium', () => {
  let browser: BrowserContext | undefined;
  let server: TestServer | undefined;
  let workDir = '';

  afterEach(async () => {
    await browser?.close();
    await server?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
    browser = undefined;
    server = undefined;
  });

  /** A fresh Chromium whose microphone plays `segments`, on a page of a server running `reply`. */
  async function openPhone(segments: Array<[number, boolean]>, transcripts: string[], reply: (input: BrainInput) => string): Promise<Phone> {
    workDir = mkdtempSync(join(tmpdir(), 'browser-phone-'));
    const wav = join(workDir, 'caller.wav');
    writeFileSync(wav, callerWav(48000, segments));
    server = await startTestServer({
      engines: () => ({
        vad: new AmplitudeVad(),
        stt: new ScriptedStt([...transcripts]),
        tts: new WordLengthTts(),
        brain: new ScriptedBrain((input) => [{ type: 'text', text: reply(input) }]),
      }),
    });
    // A persistent context is how Playwright takes a fresh --user-data-dir.
    browser = await chromium.launchPersistentContext(join(workDir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${wav}`,
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
    // Only our own server: the page must not need anything from elsewhere.
    await page.route(/^(?!https?:\/\/127\.0\.0\.1[:/])/, (route) => route.abort());
    await page.goto(server.url); // http://127.0.0.1:<port>: a secure context, as localhost is
    const state = async () => {
      const stats = await page.evaluate(() => JSON.stringify((globalThis as unknown as PageGlobals).phoneStats));
      return `page state: ${stats}\n${problems.join('\n')}`;
    };
    return { page, problems, state };
  }

  /** Waits until the transcript shows every one of `texts` (and a TTFA figure, if asked). */
  async function waitForTranscript(phone: Phone, texts: string[], options: { ttfa?: boolean; timeout?: number } = {}): Promise<void> {
    try {
      await phone.page.waitForFunction(
        ({ texts, ttfa }) => {
          const { document } = globalThis as unknown as PageGlobals;
          const transcript = document.querySelector('#transcript')?.textContent ?? '';
          const ttfaCell = document.querySelector('#timings td.ttfa')?.textContent ?? '';
          return texts.every((t) => transcript.includes(t)) && (!ttfa || /^\d+$/.test(ttfaCell));
        },
        { texts, ttfa: options.ttfa ?? false },
        { timeout: options.timeout ?? 15_000 },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\nwaiting for: ${JSON.stringify(texts)}\n${await phone.state()}`);
    }
  }

  async function hangUpAndGetRecord(phone: Phone): Promise<CallRecord> {
    const { page } = phone;
    // Let the last reply's marks come back from the page's playback first.
    await page.waitForFunction(() => {
      const s = (globalThis as unknown as PageGlobals).phoneStats;
      return s.marksEchoed === s.marksReceived;
    });
    const { callSid } = await page.evaluate(() => (globalThis as unknown as PageGlobals).phoneStats);
    await page.click('#hangup');
    await waitForTranscript(phone, ['Call ended'], { timeout: 5000 });
    await server!.app.context.records.flush();
    return (await server!.app.context.records.get(callSid)) as CallRecord;
  }

  it('calls the agent from the microphone, shows both sides and the timings, and hangs up', async () => {
    // Chrome loops the file: the tail of silence is long enough to hang up before it repeats.
    const phone = await openPhone([[1.5, false], [1.0, true], [8, false]], ['book an appointment'], (input) =>
      input.type === 'call-start' ? 'Hello, how can I help?' : REPLY,
    );
    await phone.page.click('#call');
    await waitForTranscript(phone, ['book an appointment', REPLY], { ttfa: true });

    const stats = await phone.page.evaluate(() => (globalThis as unknown as PageGlobals).phoneStats);
    expect(stats.framesSent).toBeGreaterThan(100); // > 2 s of 20 ms frames
    // Greeting + reply, 5 words each at 60 ms/word of 8 kHz μ-law.
    expect(stats.mediaBytesReceived).toBeGreaterThanOrEqual(2 * 5 * 60 * 8);
    expect(stats.marksReceived).toBeGreaterThan(0);
    expect(stats.callSid).toMatch(/^CA[0-9a-f]{32}$/);

    const record = await hangUpAndGetRecord(phone);
    mkdirSync('test-artifacts', { recursive: true });
    await phone.page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(record.endReason).toBe('caller-hangup');
    expect(record.from).toBe('client:browser-phone');
    const caller = record.turns.find((t): t is CallerTurn => t.role === 'caller');
    expect(caller?.text).toBe('book an appointment');
    expect(caller?.metrics.ttfaMs).toEqual(expect.any(Number));
    const reply = record.turns.find((t): t is AgentTurn => t.role === 'agent' && t.text === REPLY);
    // heardText is set only when the page echoed the reply's marks after playing it.
    expect(reply).toMatchObject({ interrupted: false, heardText: REPLY });
    expect(phone.problems).toEqual([]);
  });

  it('barges in: the server clears, the page drops its buffered audio and echoes the pending marks', async () => {
    // The second burst starts ~1 s into the ~2 s long reply.
    const phone = await openPhone([[1.5, false], [1.0, true], [1.2, false], [0.8, true], [8, false]], ['book an appointment', 'wait'], (input) =>
      input.type === 'call-start' ? 'Hello.' : input.type === 'speech' && input.text === 'wait' ? 'Take your time.' : LONG_REPLY,
    );
    await phone.page.click('#call');
    await waitForTranscript(phone, ['agent (interrupted)', 'Take your time.'], { timeout: 20_000 });
    const stats = await phone.page.evaluate(() => (globalThis as unknown as PageGlobals).phoneStats);
    expect(stats.clearsReceived).toBe(1);

    const record = await hangUpAndGetRecord(phone);
    await phone.page.screenshot({ path: 'test-artifacts/browser-phone-barge-in.png', fullPage: true });
    expect(record.bargeIns).toBe(1);
    const interrupted = record.turns.find((t): t is AgentTurn => t.role === 'agent' && t.interrupted);
    expect(interrupted?.text).toBe(LONG_REPLY);
    // What the caller heard is a proper prefix: the rest was dropped from the page's buffer.
    expect(interrupted!.heardText.length).toBeLessThan(LONG_REPLY.length);
    expect(LONG_REPLY.startsWith(interrupted!.heardText)).toBe(true);
    const last = record.turns.at(-1) as AgentTurn;
    expect(last).toMatchObject({ text: 'Take your time.', heardText: 'Take your time.', interrupted: false });
    expect(phone.problems).toEqual([]);
  });
});
