/**
 * The gated invoker is the only way a brain runs a tool. These tests play a brain that skips
 * confirm-back (or confirms one thing and runs another) against the real calendar tools on SQLite,
 * wired the way the server wires them, and check that nothing changes in the calendar.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseAgentConfig } from '../../../src/config/load-agent-config.js';
import { GatedToolInvoker } from '../../../src/dialog/tool-invoker.js';
import { openDatabase, type Database } from '../../../src/store/database.js';
import { createCalendarTools } from '../../../src/tools/calendar.js';
import type { Booking } from '../../../src/tools/calendar-schemas.js';
import { ToolRunner } from '../../../src/tools/registry.js';
import type { Tool } from '../../../src/tools/tool.js';
import { clinicCalendar, makeTempDir, mondayMorning, SettableClock, type TempDir } from '../tools/support/fixtures.js';

const config = parseAgentConfig({}, 'defaults');
const CALL = { callSid: 'CA1', from: '+15551234567' };
const SAM = { name: 'Sam', phone: '5551234567', date: '2025-06-03', time: '10:00' };
const signal = () => new AbortController().signal;

describe('gated invoker over the real calendar tools', () => {
  let dir: TempDir;
  let db: Database;
  let tools: GatedToolInvoker;
  let ticks: number;

  beforeEach(() => {
    dir = makeTempDir();
    db = openDatabase({ dataDir: dir.path });
    const runner = new ToolRunner({ tools: createCalendarTools({ db, calendar: clinicCalendar(), clock: new SettableClock(mondayMorning) }), call: CALL });
    ticks = 0;
    tools = new GatedToolInvoker({ config, runner, monotonicMs: () => (ticks += 5) });
  });

  afterEach(() => {
    db.close();
    dir.remove();
  });

  const bookingsOf = async (phone: string, invoker = tools) => {
    const run = await invoker.run('find_bookings', { phone }, signal());
    if (run.status !== 'ran' || !run.outcome.ok) throw new Error('find_bookings failed');
    return (run.outcome.result as { bookings: Booking[] }).bookings;
  };

  /** Books through the gate the proper way: ask, the caller says yes, run again. */
  async function bookConfirmed(args = SAM): Promise<Booking> {
    expect((await tools.run('book_appointment', args, signal())).status).toBe('needs-confirmation');
    expect(tools.answer({ kind: 'yes' })).toMatchObject({ kind: 'confirmed' });
    const run = await tools.run('book_appointment', args, signal());
    if (run.status !== 'ran' || !run.outcome.ok) throw new Error(`booking failed: ${JSON.stringify(run)}`);
    return (run.outcome.result as { booking: Booking }).booking;
  }

  it('a brain that skips confirmation cannot book, however often it asks', async () => {
    for (let i = 0; i < 3; i++) {
      const run = await tools.run('book_appointment', SAM, signal());
      expect(run).toEqual({
        status: 'needs-confirmation',
        readBack: 'an appointment for Sam on Tuesday, June third at ten a.m., with the phone number five five five, one two three, four five six seven',
        unconfirmed: ['name', 'phone', 'date', 'time'],
      });
    }
    expect(await bookingsOf(SAM.phone)).toEqual([]);
  });

  it('a yes confirms exactly the values read back: any other value is asked again', async () => {
    await tools.run('book_appointment', SAM, signal());
    tools.answer({ kind: 'yes' });
    // The name is critical in the agent config (the tool itself has no say in it).
    const other = await tools.run('book_appointment', { ...SAM, name: 'Pat' }, signal());
    expect(other).toMatchObject({ status: 'needs-confirmation', unconfirmed: ['name'] });
    const later = await tools.run('book_appointment', { ...SAM, time: '11:00' }, signal());
    expect(later).toMatchObject({ status: 'needs-confirmation', unconfirmed: ['time'] });
    expect(await bookingsOf(SAM.phone)).toEqual([]);
  });

  it('books after the caller said yes to a read-back they heard, and records the run', async () => {
    await tools.run('book_appointment', SAM, signal());
    tools.heard('an appointment for Sam on Tuesday');
    expect(tools.answer({ kind: 'yes' })).toMatchObject({ kind: 'not-heard' });
    tools.repeated();
    expect(tools.answer({ kind: 'yes' })).toMatchObject({ kind: 'confirmed' });
    const run = await tools.run('book_appointment', SAM, signal());
    expect(run).toMatchObject({ status: 'ran', outcome: { ok: true } });
    if (run.status !== 'ran') throw new Error('unreachable');
    expect(run.record).toEqual({ name: 'book_appointment', args: SAM, result: run.outcome.ok && run.outcome.result, ms: 5, ok: true });
    expect(await bookingsOf(SAM.phone)).toHaveLength(1);
  });

  it('cannot cancel without a confirmation, nor a booking it has not seen', async () => {
    const booking = await bookConfirmed();
    const fresh = new GatedToolInvoker({
      config,
      runner: new ToolRunner({ tools: createCalendarTools({ db, calendar: clinicCalendar(), clock: new SettableClock(mondayMorning) }), call: CALL }),
    });
    // A guessed id: refused before any read-back, and not recorded as a run.
    expect(await fresh.run('cancel_appointment', { bookingId: booking.bookingId }, signal())).toMatchObject({ status: 'refused', error: { code: 'unknown-booking' } });
    await bookingsOf(SAM.phone, fresh);
    const run = await fresh.run('cancel_appointment', { bookingId: booking.bookingId }, signal());
    expect(run).toEqual({ status: 'needs-confirmation', readBack: 'cancelling your appointment on Tuesday, June third at ten a.m.', unconfirmed: ['bookingId'] });
    expect(await bookingsOf(SAM.phone, fresh)).toMatchObject([{ status: 'booked' }]);
  });

  it('cannot reschedule to unconfirmed values, even with the booking confirmed', async () => {
    const booking = await bookConfirmed();
    tools.reset();
    const move = { bookingId: booking.bookingId, date: '2025-06-04', time: '14:00' };
    const first = await tools.run('reschedule_appointment', move, signal());
    expect(first).toMatchObject({
      status: 'needs-confirmation',
      readBack: 'moving your appointment on Tuesday, June third at ten a.m. to Wednesday, June fourth at two p.m.',
    });
    tools.answer({ kind: 'yes' });
    // The brain runs a different time than the one confirmed: asked again, nothing moves.
    expect(await tools.run('reschedule_appointment', { ...move, time: '15:00' }, signal())).toMatchObject({ status: 'needs-confirmation', unconfirmed: ['time'] });
    expect(await bookingsOf(SAM.phone)).toMatchObject([{ date: '2025-06-03', time: '10:00' }]);
    expect(await tools.run('reschedule_appointment', move, signal())).toMatchObject({ status: 'ran', outcome: { ok: true } });
    expect(await bookingsOf(SAM.phone)).toMatchObject([{ date: '2025-06-04', time: '14:00' }]);
  });

  it('reset forgets confirmations: a new task is read back again', async () => {
    await bookConfirmed();
    tools.reset();
    expect(await tools.run('book_appointment', { ...SAM, time: '10:30' }, signal())).toMatchObject({ status: 'needs-confirmation' });
  });

  it('lookups run freely; unknown and disabled tools are refused without running', async () => {
    expect(await tools.run('check_availability', { date: '2025-06-03' }, signal())).toMatchObject({ status: 'ran', outcome: { ok: true } });
    expect(await tools.run('delete_everything', {}, signal())).toMatchObject({ status: 'refused', error: { code: 'unknown-tool' } });
    const lookupsOnly = new GatedToolInvoker({
      config: parseAgentConfig({ tools: { enabled: ['check_availability'] } }, 'lookups-only'),
      runner: { call: async () => ({ ok: true, result: 'ran' }) },
    });
    expect(await lookupsOnly.run('find_bookings', { phone: SAM.phone }, signal())).toMatchObject({ status: 'refused', error: { code: 'not-enabled' } });
  });
});

describe('gated invoker: runner bounds reach the record', () => {
  const slowTool: Tool<{ n: number }> = {
    name: 'check_availability',
    description: 'never answers',
    input: z.object({ n: z.number() }),
    timeoutMs: 30,
    run: () => new Promise(() => {}),
  };

  it('a tool that times out is recorded as a failed run with the timeout code', async () => {
    const tools = new GatedToolInvoker({ config, runner: new ToolRunner({ tools: [slowTool], call: CALL }) });
    const run = await tools.run('check_availability', { n: 1 }, signal());
    expect(run).toMatchObject({ status: 'ran', outcome: { ok: false, error: { code: 'timeout' } }, record: { ok: false, result: { code: 'timeout' } } });
  });

  it('a runner that throws is reported, not thrown', async () => {
    const tools = new GatedToolInvoker({ config, runner: { call: () => Promise.reject(new Error('boom')) } });
    expect(await tools.run('check_availability', { date: '2025-06-03' }, signal())).toMatchObject({ status: 'ran', outcome: { ok: false, error: { code: 'internal' } } });
  });
});
