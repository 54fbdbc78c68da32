/**
 * The booking race through whole calls on two instances sharing one PostgreSQL: two callers,
 * one on each instance, ask for the same slot, both hear it is free, both confirm the read-back
 * at the same moment. Exactly one is booked; the other is told the time has gone and offered the
 * nearest free ones (the database's unique live-booking index decides, not either process).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptedStt } from '../../testkit/fakes/scripted-engines.js';
import { postgresAvailable } from '../../testkit/helpers/postgres.js';
import { until } from '../../testkit/helpers/process.js';
import { ACCOUNT, agentSaid, freePort, sharedPostgres, startTransferApp, transferCaller, utter, type SharedPostgres, type TransferApp } from '../../testkit/helpers/transfer-app.js';
import type { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';

/** A clinic day that is not today (Mon–Thu are open 9–17 in the default schedule). */
function anotherOpenDay(): string {
  const today = new Intl.DateTimeFormat('en-US', { weekday: 'long', timeZone: 'America/New_York' }).format(new Date()).toLowerCase();
  return ['tuesday', 'wednesday', 'thursday'].find((day) => day !== today)!;
}

describe.skipIf(!postgresAvailable)('booking race through calls on two instances (PostgreSQL)', () => {
  let shared: SharedPostgres;
  const apps: TransferApp[] = [];
  const day = anotherOpenDay();
  const scripts = [
    [`book an appointment on ${day} at ten a m`, 'sarah', 'yes', 'yes'],
    [`book an appointment on ${day} at ten a m`, 'alex', 'yes', 'yes'],
  ];

  beforeAll(async () => {
    shared = await sharedPostgres(2, 'voice_booking_x');
    for (const [i, store] of shared.stores.entries()) {
      apps.push(await startTransferApp({ apiUrl: shared.apiUrl, port: await freePort(), stt: new ScriptedStt(scripts[i]!), store }));
    }
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await shared?.close();
  });

  it('books the slot for exactly one caller and offers the other the nearest free times', async () => {
    const calls = apps.map((app, i) => ({ app, callSid: `CA${String(i + 1).repeat(32)}` }));
    const callers = calls.map(({ app, callSid }) => {
      shared.fake.voice.addInboundCall(callSid, ACCOUNT, '+15551234567', '+15559870000');
      return transferCaller({ publicUrl: app.publicUrl, callSid });
    });
    const both = async (step: (c: FakeTwilioCaller, i: number) => Promise<void>) => Promise.all(callers.map((c, i) => step(c, i)));
    const heard = (text: string) => both(async (_c, i) => until(() => agentSaid(calls[i]!.app, calls[i]!.callSid).includes(text), () => `"${text}" on instance ${i} (said: ${agentSaid(calls[i]!.app, calls[i]!.callSid)})`));

    await both((c) => c.start());
    await heard('What would you like to do');
    await both(utter); // the day and time: free for both
    await heard('What name should I put the appointment under');
    await both(utter); // the name
    await heard('ending in');
    await both(utter); // yes, this number
    await heard('Is that right');
    await both(utter); // yes: both confirm at once
    await both(async (_c, i) => until(() => /all set|not available/.test(agentSaid(calls[i]!.app, calls[i]!.callSid)), `the outcome on instance ${i}`));

    const outcomes = calls.map(({ app, callSid }) => agentSaid(app, callSid));
    const winners = outcomes.filter((said) => said.includes('You are all set'));
    const losers = outcomes.filter((said) => /ten a\.m\. on .* is not available\. The nearest free times are/.test(said));
    expect(winners, outcomes.join('\n')).toHaveLength(1);
    expect(losers, outcomes.join('\n')).toHaveLength(1);
    expect(losers[0]).not.toContain('You are all set');

    // The store has one live booking at ten, for the winner's name.
    const booked = await Promise.all(calls.map(({ app, callSid }) => app.app.context.calls.session(callSid)!.record.toolCalls.filter((t) => t.name === 'book_appointment')));
    const results = booked.flat().map((t) => t.ok);
    expect(results.sort()).toEqual([false, true]);
    const winnerName = winners[0]!.match(/all set, (\w+)/)![1]!.toLowerCase();
    const [winning] = booked.flat().filter((t) => t.ok);
    const bookingId = (winning!.result as { booking: { bookingId: string } }).booking.bookingId;
    expect(await shared.stores[1]!.bookings.get(bookingId)).toMatchObject({ name: expect.stringMatching(new RegExp(winnerName, 'i')), time: '10:00', status: 'booked' });
    for (const c of callers) c.ws.close();
  });
});
