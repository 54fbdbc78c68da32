/**
 * The callback offer in the offline flow brain, on the real tools and the SQLite transfer store:
 * no phone system (the browser phone, no Twilio credentials) and outside transfer hours both lead
 * straight to taking a callback, with the read-back before anything is stored. Every caller
 * phrase must be in the grammar the previous turn emitted (the offline recogniser hears nothing else).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../../src/config/agent-schema.js';
import { loadAgentConfig } from '../../../src/config/load-agent-config.js';
import { FlowBrain } from '../../../src/dialog/flow-brain.js';
import { openDatabase, type Database } from '../../../src/store/database.js';
import { SqliteTransferStore } from '../../../src/store/embedded/transfers.js';
import { createClinicTools } from '../../../src/tools/clinic-tools.js';
import { ToolRunner } from '../../../src/tools/registry.js';
import { GatedToolInvoker } from '../../../src/dialog/tool-invoker.js';
import type { TransferOptions } from '../../../src/tools/transfer.js';
import { ScriptedCall, toolCalls } from '../../../testkit/helpers/scripted-call.js';
import { makeTempDir, type TempDir } from '../tools/support/fixtures.js';

const base = loadAgentConfig('config/agent.yaml');
// Monday 17 March 2025, 10:00 in New York.
const NOW = new Date('2025-03-17T14:00:00Z');

let dir: TempDir;
let db: Database;
let store: SqliteTransferStore;

beforeEach(() => {
  dir = makeTempDir('callback-flow-');
  db = openDatabase({ dataDir: dir.path });
  store = new SqliteTransferStore(db, () => NOW.getTime());
});
afterEach(() => {
  db.close();
  dir.remove();
});

function call(transfer: Partial<TransferOptions>, config = base) {
  const tools = createClinicTools({ db, calendar: config.business.schedule, clock: { now: () => NOW.getTime() }, transfer: { store, ...transfer } });
  const gated = () => new GatedToolInvoker({ config, runner: new ToolRunner({ tools, call: { callSid: 'CA1', from: '+15551234567' } }) });
  const brain = new FlowBrain({ config, tools: gated, now: () => NOW, monotonicMs: () => 0 });
  return new ScriptedCall(brain.createSession({ callSid: 'CA1', from: '+15551234567', to: '+15550142000' }));
}

describe('callback instead of a transfer', () => {
  it('without a phone system: says it would transfer, takes the number and time, reads back, stores on yes', async () => {
    const c = call({});
    await c.start();
    const offer = await c.say('talk to a person');
    expect(offer.text).toBe(
      'I would transfer you to a member of our team, but I cannot connect calls from this line. I can have a member of our team call you back. ' +
        'Should we use the number you are calling from, ending in four five six seven?',
    );
    expect(toolCalls(offer)).toMatchObject([{ name: 'transfer_to_person', result: { transferred: false, reason: 'not-configured', offerCallback: true } }]);
    expect((await c.say('yes')).text).toBe('When would be a good time for us to call you? For example, tomorrow at ten a.m.');
    const readBack = await c.say('tomorrow at ten a m');
    expect(readBack.text).toBe(
      'Let me read that back: a call back to five five five, one two three, four five six seven on Tuesday, March eighteenth at ten a.m. Is that right?',
    );
    expect(await store.callbacks()).toEqual([]);
    const corrected = await c.say('no, make it four p m');
    expect(corrected.text).toContain('at four p.m.');
    const done = await c.say('yes');
    expect(toolCalls(done)).toMatchObject([{ name: 'request_callback', args: { phone: '5551234567', date: '2025-03-18', time: '16:00' }, ok: true }]);
    expect(done.text).toMatch(/^Thank you\. We will call you back on five five five, one two three, four five six seven on Tuesday, March eighteenth at four p\.m\./);
    expect(await store.callbacks({ status: 'open' })).toMatchObject([{ callSid: 'CA1', phone: '5551234567', date: '2025-03-18', time: '16:00' }]);
  });

  it('asks for the time separately when only a day is given, and for another number when the caller ID is declined', async () => {
    const c = call({});
    await c.start();
    await c.say('talk to a person');
    expect((await c.say('no')).text).toMatch(/number/i);
    await c.say('five five five one two three nine nine nine nine');
    expect((await c.say('tomorrow')).text).toBe('And at what time on that day?');
    expect((await c.say('two p m')).text).toContain('a call back to five five five, one two three, nine nine nine nine on Tuesday, March eighteenth at two p.m.');
  });

  it('outside transfer hours: offers the callback straight away, no attempt, no call to Twilio', async () => {
    const config = agentConfigSchema.parse({ ...base, transfer: { mode: 'warm', hours: { saturday: { open: '09:00', close: '12:00' } }, targets: [{ number: '+15550001000' }] } });
    const c = call(
      {
        accountSid: `AC${'1'.repeat(32)}`,
        authToken: 'token',
        apiBaseUrl: 'http://127.0.0.1:9', // nothing listens: any REST call would fail the test
        routing: { config: config.transfer, schedule: config.business.schedule, mode: 'warm', now: () => NOW.getTime() },
      },
      config,
    );
    await c.start();
    const offer = await c.say('talk to a person');
    expect(offer.text).toMatch(/^Our team is not available to take calls right now\. I can have a member of our team call you back\./);
    expect(toolCalls(offer)).toMatchObject([{ result: { transferred: false, reason: 'outside-hours', offerCallback: true } }]);
    expect(await store.attemptsFor('CA1')).toEqual([]);
  });

  it('in hours with warm mode: records a pending attempt and tells the caller what happens next', async () => {
    const config = agentConfigSchema.parse({ ...base, transfer: { mode: 'warm', targets: [{ label: 'booking team', number: '+15550002000', topics: ['book'] }, { number: '+15550001000' }] } });
    const c = call(
      { accountSid: `AC${'1'.repeat(32)}`, authToken: 'token', routing: { config: config.transfer, schedule: config.business.schedule, mode: 'warm', now: () => NOW.getTime() } },
      config,
    );
    await c.start();
    await c.say('book an appointment');
    const hold = await c.say('operator');
    expect(hold.text).toMatch(/^I will put you through to our booking team and tell them what you need\./);
    expect(hold.events.at(-1)).toEqual({ type: 'transfer', reason: 'caller-request' });
    expect(await store.attemptsFor('CA1')).toMatchObject([{ status: 'pending', topic: 'book', targetNumber: '+15550002000', mode: 'warm' }]);
  });
});
