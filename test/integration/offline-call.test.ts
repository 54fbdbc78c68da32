/**
 * Whole calls through the media WebSocket with the real offline engines: Silero VAD, pocketsphinx
 * with the flow brain's per-turn grammars, flite, and the clinic tools on SQLite. The caller's
 * voice is a different flite voice, μ-law encoded like a phone line.
 */
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../src/config/load-agent-config.js';
import type { AgentTurn, CallerTurn } from '../../src/store/call-record.js';
import { callerMulaw } from '../../testkit/helpers/caller-audio.js';
import { OfflineTestCaller, startOfflineServer, type OfflineServer } from '../../testkit/helpers/offline-call.js';
import { until } from '../../testkit/helpers/process.js';

const agent = loadAgentConfig('config/agent.yaml');
/** flite's rms voice survives the μ-law phone path best (notes/offline-engines.md). */
const CALLER_VOICE = 'rms';
let offline: OfflineServer;
let dataDir: string;
let server: OfflineServer['server'];

beforeAll(async () => {
  offline = await startOfflineServer('offline-call-', agent);
  ({ dataDir, server } = offline);
}, 60_000);

afterAll(async () => {
  await offline?.close();
});

class OfflineCaller extends OfflineTestCaller {
  constructor(from = '+15551234567', playback: 'instant' | 'realtime' = 'instant') {
    super(server, { speech: (text) => callerMulaw(text, CALLER_VOICE), trailingSilenceMs: 700, from, playback });
  }
}

function bookings(): Array<{ name: string; phone: string; date: string; time: string; status: string }> {
  const db = new BetterSqlite3(join(dataDir, 'agent.db'), { readonly: true });
  try {
    return db.prepare('SELECT name, phone, date, time, status FROM bookings ORDER BY created_at').all() as never;
  } finally {
    db.close();
  }
}

describe('offline calls by voice and keypad', () => {
  it('books an appointment by voice with a read-back, a correction and a yes', async () => {
    const call = new OfflineCaller();
    expect(await call.start()).toMatch(/Maple Street Clinic/);
    expect(await call.say('book an appointment')).toMatch(/what day/i);
    expect(await call.say('tuesday')).toMatch(/what time/i);
    expect(await call.say('ten a m')).toMatch(/name/i);
    expect(await call.say('james')).toMatch(/number you are calling from/i);
    const readBack = await call.say('yes');
    expect(readBack).toMatch(/Tuesday, \w+ \w+/);
    expect(readBack).toMatch(/ten a\.m\./i);
    expect(readBack).toMatch(/is that right/i);
    const corrected = await call.say('no make it eleven a m');
    expect(corrected).toMatch(/eleven a\.m\./i);
    const booked = await call.say('yes');
    expect(booked).toMatch(/booked|confirmed|all set/i);
    expect(call.heard()).toEqual(['book an appointment', 'tuesday', 'ten a m', 'james', 'yes', 'no make it eleven a m', 'yes']);

    const rows = bookings().filter((b) => b.name.toLowerCase() === 'james');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ phone: '5551234567', time: '11:00', status: 'booked' });
    expect(new Date(`${rows[0]!.date}T12:00:00Z`).getUTCDay()).toBe(2); // a Tuesday

    const record = call.session.record;
    expect(record.toolCalls.some((t) => t.name === 'book_appointment' && t.ok)).toBe(true);
    expect(record.slots).toMatchObject({ time: expect.any(String), date: expect.any(String) });
    const callerTurns = record.turns.filter((t): t is CallerTurn => t.role === 'caller');
    for (const t of callerTurns) {
      expect(t.metrics.sttMs).toBeGreaterThanOrEqual(0);
      expect(t.metrics.ttfaMs).toBeGreaterThan(0);
    }
    call.twilio.stop();
    await until(() => call.session.isEnded, 'end');
    call.twilio.close();
  });

  it('books with the keypad: menu key, date and time digits, a typed phone number', async () => {
    const call = new OfflineCaller('+15550000000');
    await call.start();
    expect(await call.press('1')).toMatch(/what day/i);
    expect(await call.say('wednesday')).toMatch(/what time/i);
    expect(await call.press('0230#')).toMatch(/name/i);
    expect(await call.say('david')).toMatch(/number you are calling from/i);
    const readBack = await call.press('5559876543#');
    expect(readBack).toMatch(/five five five, nine eight seven, six five four three/);
    await call.press('1');
    const rows = bookings().filter((b) => b.name.toLowerCase() === 'david');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ phone: '5559876543', time: '14:30', status: 'booked' });
    call.twilio.stop();
    await until(() => call.session.isEnded, 'end');
    call.twilio.close();
  });

  it('cancels by voice and says goodbye', async () => {
    const call = new OfflineCaller();
    await call.start();
    expect(await call.say('cancel my appointment')).toMatch(/number you are calling from/i);
    const found = await call.say('yes');
    expect(found).toMatch(/cancel/i);
    const done = await call.say('yes');
    expect(done).toMatch(/cancelled/i);
    expect(bookings().find((b) => b.name.toLowerCase() === 'james')?.status).toBe('cancelled');
    await call.say('goodbye');
    expect(await call.twilio.closed()).toBe(1000);
    expect(call.session.record.endReason).toBeTruthy();
  });

  it('barge-in during the long greeting clears the audio, and the caller is heard and answered', async () => {
    const call = new OfflineCaller('+15551234567', 'realtime');
    await call.twilio.start();
    await until(() => call.twilio.count('media') > 0, 'greeting audio');
    call.session = server.app.context.calls.session(call.twilio.callSid)!;
    await call.twilio.silence(500); // let some of the greeting play
    await call.twilio.sendMulaw(callerMulaw('book an appointment', CALLER_VOICE));
    await call.twilio.silence(700);
    await until(() => call.twilio.count('clear') === 1, 'clear on the wire');
    // The reply is held at the clear; the caller's words make it an interruption.
    await until(() => call.session.record.bargeIns === 1, 'interruption recorded');
    const greeting = call.session.record.turns[0] as AgentTurn;
    expect(greeting).toMatchObject({ role: 'agent', interrupted: true });
    expect(greeting.text).toMatch(/Maple Street Clinic/);
    expect(greeting.heardText.length).toBeGreaterThan(0);
    expect(greeting.heardText.length).toBeLessThan(greeting.text.length);
    expect(greeting.text.startsWith(greeting.heardText)).toBe(true);
    await until(() => call.heard().length === 1 && call.session.phase === 'listening', 'the answer to the barge-in');
    expect(call.heard()).toEqual(['book an appointment']);
    expect((call.session.record.turns.at(-1) as AgentTurn).text).toMatch(/what day/i);
    call.twilio.stop();
    await until(() => call.session.isEnded, 'end');
    call.twilio.close();
  });
});
