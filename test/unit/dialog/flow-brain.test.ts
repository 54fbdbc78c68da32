import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../src/config/load-agent-config.js';
import { FlowBrain } from '../../../src/dialog/flow-brain.js';
import { FakeClinicTools } from '../../../testkit/fakes/fake-clinic-tools.js';
import { gatedTools } from '../../../testkit/fakes/gated-tools.js';
import { jsgfWords, loadCmuDictionary } from '../../../testkit/helpers/jsgf-matcher.js';
import { emittedGrammars, lastEvent, ScriptedCall, toolCalls } from '../../../testkit/helpers/scripted-call.js';

const config = loadAgentConfig('config/agent.yaml');
// Monday 17 March 2025, 10:00 in New York.
const NOW = new Date('2025-03-17T14:00:00Z');
const CALLER = '+15551234567';

function call(tools = new FakeClinicTools(), from = CALLER) {
  const brain = new FlowBrain({ config, tools: gatedTools(config, tools, { monotonicMs: () => 0 }), now: () => NOW });
  return { tools, call: new ScriptedCall(brain.createSession({ callSid: 'CA1', from, to: '+15550142000' })) };
}

describe('flow brain: booking', () => {
  it('books after a read-back, a correction of one slot and a yes', async () => {
    const { tools, call: c } = call();
    const greeting = await c.start();
    expect(greeting.sentences[0]).toBe('Thank you for calling Maple Street Clinic.');
    expect(lastEvent(greeting)).toMatchObject({ type: 'listen', intent: 'menu' });

    expect((await c.say('I would like to book an appointment')).text).toBe('What day would you like?');
    expect((await c.say('tomorrow')).text).toBe('What time would suit you?');
    const time = await c.say('three p m');
    expect(toolCalls(time)).toMatchObject([{ name: 'check_availability', args: { date: '2025-03-18', time: '15:00' }, ok: true }]);
    expect(time.text).toBe('Let me check. What name should I put the appointment under?');
    expect((await c.say('my name is sarah')).text).toBe('Should we use the number you are calling from, ending in four five six seven?');

    const readBack = await c.say('yes');
    expect(readBack.sentences).toEqual([
      'Let me read that back: an appointment for Sarah on Tuesday, March eighteenth at three p.m., with the phone number five five five, one two three, four five six seven.',
      'Is that right?',
    ]);
    expect(toolCalls(readBack)).toEqual([]);

    const corrected = await c.say('no, make it four p m');
    expect(toolCalls(corrected)).toMatchObject([{ name: 'check_availability', args: { time: '16:00' } }]);
    expect(corrected.text).toContain('an appointment for Sarah on Tuesday, March eighteenth at four p.m., with the phone number five five five');
    expect(tools.calls.some((x) => x.name === 'book_appointment')).toBe(false);

    const booked = await c.say("yes that's right");
    expect(booked.events.find((e) => e.type === 'slots')).toEqual({
      type: 'slots',
      slots: { name: 'Sarah', phone: '5551234567', date: '2025-03-18', time: '16:00' },
    });
    expect(toolCalls(booked)).toMatchObject([{ name: 'book_appointment', args: { name: 'Sarah', phone: '5551234567', date: '2025-03-18', time: '16:00' }, ok: true }]);
    expect(booked.text).toBe('You are all set, Sarah. Your appointment is on Tuesday, March eighteenth at four p.m. Is there anything else I can help you with?');

    const bye = await c.say('no thanks');
    expect(bye.text).toBe('Thank you for calling Maple Street Clinic. Goodbye.');
    expect(lastEvent(bye)).toEqual({ type: 'end-call', reason: 'caller-goodbye' });
  });

  it('offers the nearest free times when the requested one is taken', async () => {
    const { tools, call: c } = call(new FakeClinicTools({ taken: ['2025-03-18 15:00'] }));
    await c.start();
    expect((await c.say('book an appointment for tomorrow at three p m')).text).toBe(
      'Let me check. I am sorry, three p.m. on Tuesday, March eighteenth is not available. The nearest free times are two thirty p.m. or three thirty p.m. Which would you like?',
    );
    expect((await c.say('the second one')).text).toBe('What name should I put the appointment under?');
    await c.say('alex');
    await c.say('yes');
    const booked = await c.say('yes');
    expect(toolCalls(booked)[0]).toMatchObject({ name: 'book_appointment', args: { time: '15:30', name: 'Alex' } });
    expect(tools.bookings).toMatchObject([{ name: 'Alex', date: '2025-03-18', time: '15:30' }]);
  });

  it('takes the menu choice and a different phone number from the keypad', async () => {
    const { tools, call: c } = call();
    await c.start();
    expect((await c.press('1')).text).toBe('What day would you like?');
    await c.say('friday');
    await c.say('ten a m');
    await c.say('emma');
    expect((await c.press('2')).text).toBe('What phone number should I use? Please say it digit by digit.');
    const readBack = await c.press('12*5559876543#');
    expect(readBack.text).toContain('with the phone number five five five, nine eight seven, six five four three.');
    await c.press('1');
    expect(tools.bookings[0]).toMatchObject({ phone: '5559876543', date: '2025-03-21', time: '10:00', name: 'Emma' });
  });

  it('asks what to change after a bare no', async () => {
    const { call: c } = call();
    await c.start();
    await c.say('book an appointment');
    await c.say('tuesday at two thirty');
    await c.say('it is john');
    await c.say('yes');
    expect((await c.say('no')).text).toBe('What should I change: the day, the time, the name, or the phone number?');
    expect((await c.say('the day')).text).toBe('What day would you like?');
    const again = await c.say('wednesday');
    expect(again.text).toContain('John on Wednesday, March nineteenth at two thirty p.m.');
  });
});

describe('flow brain: existing appointments', () => {
  const existing = [
    { name: 'Sarah', phone: '5551234567', date: '2025-03-20', time: '10:00', service: null },
    { name: 'Sarah', phone: '5551234567', date: '2025-03-25', time: '14:00', service: null },
  ];

  it('cancels the only appointment after confirmation', async () => {
    const { tools, call: c } = call(new FakeClinicTools({ bookings: [existing[0]!] }));
    await c.start();
    await c.say('cancel my appointment');
    const found = await c.say('yes');
    expect(toolCalls(found)).toMatchObject([{ name: 'find_bookings', args: { phone: '5551234567' } }]);
    expect(found.text).toBe(
      'One moment. I found your appointment on Thursday, March twentieth at ten a.m. Let me read that back: cancelling your appointment on Thursday, March twentieth at ten a.m. Is that right?',
    );
    const done = await c.say('yep');
    expect(toolCalls(done)).toMatchObject([{ name: 'cancel_appointment', args: { bookingId: 'b1' }, ok: true }]);
    expect(done.sentences[0]).toBe('Your appointment on Thursday, March twentieth at ten a.m. has been cancelled.');
    expect(tools.bookings[0]!.status).toBe('cancelled');
  });

  it('keeps the appointment when the caller says no to cancelling', async () => {
    const { tools, call: c } = call(new FakeClinicTools({ bookings: [existing[0]!] }));
    await c.start();
    await c.press('3');
    await c.say('yes');
    expect((await c.say('nope')).sentences[0]).toBe('Okay, I will leave your appointment as it is.');
    expect(tools.bookings[0]!.status).toBe('booked');
  });

  it('reschedules the chosen appointment', async () => {
    const { tools, call: c } = call(new FakeClinicTools({ bookings: existing }));
    await c.start();
    await c.say('i need to reschedule my appointment');
    const list = await c.say('yes');
    expect(list.text).toBe(
      'One moment. I found two appointments: the first on Thursday, March twentieth at ten a.m. and the second on Tuesday, March twenty fifth at two p.m. Which appointment do you mean?',
    );
    expect((await c.say('the second one')).text).toBe('What day would you like to move it to?');
    const readBack = await c.say('friday at ten a m');
    expect(readBack.text).toContain('moving your appointment on Tuesday, March twenty fifth at two p.m. to Friday, March twenty first at ten a.m.');
    const done = await c.say('correct');
    expect(toolCalls(done)).toMatchObject([{ name: 'reschedule_appointment', args: { bookingId: 'b2', date: '2025-03-21', time: '10:00' } }]);
    expect(tools.bookings[1]).toMatchObject({ date: '2025-03-21', time: '10:00' });
  });

  it('says so when there are no bookings', async () => {
    const { call: c } = call();
    await c.start();
    await c.say('cancel my appointment');
    expect((await c.say('yes')).text).toContain('I could not find any upcoming appointments for the number five five five, one two three, four five six seven.');
  });
});

describe('flow brain: questions, people, misses', () => {
  it('answers hours and address by voice and by key', async () => {
    const { call: c } = call();
    await c.start();
    const spoken = await c.say('what are your opening hours');
    expect(spoken.sentences[0]).toBe('We are open Monday to Thursday from nine a.m. to five p.m., and Friday from nine a.m. to three p.m.');
    expect(spoken.text).toContain('42 Maple Street');
    expect(spoken.sentences.at(-1)).toBe('Is there anything else I can help you with?');
    expect((await c.press('4')).text).toBe(spoken.text);
    expect((await c.say('what services do you offer')).sentences[0]).toBe('We offer checkup, vaccination, blood test, physical therapy and consultation.');
  });

  it('transfers to a person when transfer is configured', async () => {
    const { call: c } = call();
    await c.start();
    const r = await c.say('talk to a person');
    expect(toolCalls(r)).toMatchObject([{ name: 'transfer_to_person', ok: true }]);
    expect(r.text).toBe('Please hold while I connect you to a member of our team.');
    expect(lastEvent(r)).toEqual({ type: 'transfer', reason: 'caller-request' });
  });

  it('falls back to the clinic number when transfer is not configured', async () => {
    const tools = new FakeClinicTools();
    tools.transferConfigured = false;
    const { call: c } = call(tools);
    await c.start();
    await c.say('book an appointment');
    const r = await c.say('operator');
    expect(r.text).toBe(
      'I am sorry, nobody is available to take your call right now. You can reach our front desk at five five five, zero one four, two zero zero zero. I am happy to keep helping you here. What day would you like?',
    );
    expect(r.events.some((e) => e.type === 'transfer')).toBe(false);
    expect(lastEvent(r)).toMatchObject({ type: 'listen', intent: 'date' });
  });

  it('reprompts differently twice, then offers the keypad or a person', async () => {
    const { call: c } = call();
    await c.start();
    const texts = [(await c.noMatch()).text, (await c.sayUnchecked('banana')).text, (await c.noMatch()).text];
    expect(new Set(texts).size).toBe(3);
    expect(texts[2]).toContain('press one to book');
    expect(texts[2]).toContain('zero to talk to a person');
  });

  it('reprompts on silence and hangs up politely after the configured reprompts', async () => {
    const { call: c } = call();
    await c.start();
    const first = await c.silence();
    const second = await c.silence();
    expect(first.sentences[0]).toBe('Are you still there?');
    expect(first.text).not.toBe(second.text);
    const last = await c.silence();
    expect(last.text).toBe('Thank you for calling Maple Street Clinic. Goodbye.');
    expect(lastEvent(last)).toEqual({ type: 'end-call', reason: 'no-input' });
    expect((await c.sayUnchecked('hello')).events).toEqual([]);
  });

  it('repeats the last reply and starts over', async () => {
    const { call: c } = call();
    await c.start();
    const asked = await c.say('book an appointment');
    expect((await c.say('repeat that')).text).toBe(asked.text);
    expect((await c.say('start over')).text).toMatch(/^Okay, let us start over\. You can book/);
  });

  it('ends the call on goodbye', async () => {
    const { call: c } = call();
    await c.start();
    const r = await c.say('goodbye');
    expect(r.events.map((e) => e.type)).toEqual(['text', 'text', 'end-call']);
  });

  it('is deterministic', async () => {
    const script = async () => {
      const { call: c } = call();
      await c.start();
      for (const phrase of ['book an appointment', 'next tuesday', 'half past two', 'sarah', 'yes', 'no make it three thirty', 'yes']) await c.say(phrase);
      return c.turns.map((t) => t.events);
    };
    expect(await script()).toEqual(await script());
  });

  it('stops yielding when the turn is aborted', async () => {
    const { call: c } = call();
    await c.start();
    const controller = new AbortController();
    controller.abort();
    const r = await c.run({ type: 'speech', text: 'book an appointment', confidence: 1 }, controller.signal);
    expect(r.events).toEqual([]);
  });
});

// Runs after the scripts above (tests in a file run in order): every grammar they received.
describe('flow brain: grammars emitted during the scripts', () => {
  it('emitted grammars', () => expect(emittedGrammars.size).toBeGreaterThan(5));
  it.skipIf(loadCmuDictionary() === null)('use only words from the pocketsphinx dictionary', () => {
    const dict = loadCmuDictionary()!;
    const missing = new Set<string>();
    for (const jsgf of emittedGrammars) for (const w of jsgfWords(jsgf)) if (!dict.has(w)) missing.add(w);
    expect([...missing]).toEqual([]);
  });
});

describe('flow brain: barge-in during the read-back', () => {
  it('does not book on a yes to a read-back the caller did not hear in full', async () => {
    const tools = new FakeClinicTools();
    const brain = new FlowBrain({ config, tools: gatedTools(config, tools, { monotonicMs: () => 0 }), now: () => NOW });
    const session = brain.createSession({ callSid: 'CA2', from: CALLER, to: '+15550142000' });
    const c = new ScriptedCall(session);
    await c.start();
    for (const phrase of ['book an appointment', 'tomorrow at ten a m', 'sam']) await c.say(phrase);
    const readBack = await c.say('yes');
    session.interrupted?.(readBack.sentences[0]!.slice(0, 40));
    const again = await c.say('yes');
    expect(toolCalls(again)).toEqual([]);
    expect(again.sentences[0]).toBe('Let me read that back in full first.');
    // Heard in full this time (no barge-in): the next yes books.
    expect(toolCalls(await c.say('yes'))).toMatchObject([{ name: 'book_appointment' }]);
  });
});
