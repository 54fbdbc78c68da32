/**
 * One real flow-brain turn for a test item: a fresh call is driven (with clean text) to the step
 * the item answers, then the recogniser's output for the item's audio is fed in, and what the
 * flow did is classified: acted (on which intent / which slot value), asked a clarifying
 * question, or reprompted.
 */
import type { AgentConfig } from '../../src/config/agent-schema.js';
import type { BrainEvent, BrainInput, BrainSession } from '../../src/dialog/brain.js';
import { FlowBrain } from '../../src/dialog/flow-brain.js';
import type { Heard } from '../../src/speech/pocketsphinx-stt.js';
import { FakeClinicTools } from '../../testkit/fakes/fake-clinic-tools.js';
import { gatedTools } from '../../testkit/fakes/gated-tools.js';
import { BENCH_NOW, type TestItem } from './test-set.js';

export interface Outcome {
  kind: 'acted' | 'clarified' | 'reprompted';
  correct: boolean;
  /** A transfer, hang-up, booking or cancellation the caller did not ask for. */
  irreversibleWrong: boolean;
  detail: string;
}

const CALLER = '+15551234567';
const CALLER_DIGITS = '5551234567';

/** Clean-text turns that bring a call to `item.step` (with `item.task`). */
function setupScript(item: TestItem): string[] {
  const book = ['book an appointment', 'tuesday', 'ten a m', 'james', 'yes'];
  const until = (n: number) => book.slice(0, n);
  switch (item.step) {
    case 'menu':
      return [];
    case 'anythingElse':
      return ['what are your opening hours'];
    case 'date':
      return until(1);
    case 'time':
      return until(2);
    case 'name':
      return until(3);
    case 'phoneChoice':
      return until(4);
    case 'phone':
      return [...until(4), 'no'];
    case 'confirm':
      return item.task === 'cancel' ? ['cancel my appointment', 'yes'] : until(5);
    default:
      throw new Error(`no setup for step ${item.step}`);
  }
}

async function run(session: BrainSession, input: BrainInput): Promise<BrainEvent[]> {
  const events: BrainEvent[] = [];
  for await (const e of session.turn(input, { signal: new AbortController().signal, history: [] })) events.push(e);
  return events;
}

const textOf = (events: BrainEvent[]) => events.flatMap((e) => (e.type === 'text' ? [e.text.trim()] : [])).join(' ');

export async function judge(config: AgentConfig, item: TestItem, heard: Heard): Promise<Outcome> {
  const tools = new FakeClinicTools({ bookings: [{ name: 'Sarah', phone: CALLER_DIGITS, date: '2026-11-30', time: '10:00', service: null }] });
  const brain = new FlowBrain({ config, tools: gatedTools(config, tools, { monotonicMs: () => 0 }), now: () => BENCH_NOW });
  const session = brain.createSession({ callSid: 'CAbench', from: CALLER, to: '+15550142000' });
  let last = textOf(await run(session, { type: 'call-start' }));
  for (const text of setupScript(item)) last = textOf(await run(session, { type: 'speech', text, confidence: 1 }));
  const state = (session as unknown as { state: { step: string; task: string | null; slots: Record<string, string>; clarify: { intentId: string } | null; callerIdDeclined: boolean } }).state;
  if (state.step !== item.step) throw new Error(`setup reached ${state.step}, not ${item.step}`);
  const callsBefore = tools.calls.length;
  const taskBefore = state.task;
  const slotsBefore = JSON.stringify(state.slots);
  const events = heard.text === '' ? await run(session, { type: 'no-match' }) : await run(session, { type: 'speech', text: heard.text, confidence: heard.confidence, recognition: heard.recognition });
  const said = textOf(events);
  const newCalls = tools.calls.slice(callsBefore).map((c) => c.name);
  const transferred = newCalls.includes('transfer_to_person');
  const hungUp = events.some((e) => e.type === 'end-call');
  const booked = newCalls.includes('book_appointment') || newCalls.includes('cancel_appointment');

  if (state.step === 'clarify' && state.clarify) {
    const correct = 'intent' in item.expect && state.clarify.intentId === item.expect.intent;
    return { kind: 'clarified', correct, irreversibleWrong: false, detail: `asked about ${state.clarify.intentId}` };
  }
  // Which intent (if any) ran?
  const answers = Object.fromEntries(config.offline.intents.filter((i) => i.action === 'answer').map((i) => [i.id, (i.answer ?? '').split(/[{.]/)[0]!.trim()]));
  const ran: string | null = transferred ? 'person'
    : hungUp ? 'goodbye'
      : said.includes(config.offline.messages.startOver) ? 'start-over'
        : said === last && item.step !== 'menu' ? 'repeat'
          : said.startsWith(config.business.hoursText.slice(0, 20)) ? 'hours'
            : Object.entries(answers).find(([id, lead]) => id !== 'hours' && lead && said.startsWith(lead))?.[0]
              ?? (state.task && state.task !== taskBefore ? state.task : null);
  const ranRepeat = ran === null && item.step === 'menu' && said === last ? 'repeat' : ran;

  if ('intent' in item.expect) {
    if (ranRepeat === null && JSON.stringify(state.slots) !== slotsBefore) return { kind: 'acted', correct: false, irreversibleWrong: false, detail: `filled ${JSON.stringify(state.slots)}` };
    if (ranRepeat === null) return { kind: 'reprompted', correct: false, irreversibleWrong: false, detail: said.slice(0, 60) };
    const correct = ranRepeat === item.expect.intent;
    return { kind: 'acted', correct, irreversibleWrong: !correct && (transferred || hungUp || booked), detail: `ran ${ranRepeat}` };
  }
  if (ranRepeat !== null) return { kind: 'acted', correct: false, irreversibleWrong: transferred || hungUp || booked, detail: `ran ${ranRepeat} instead of answering` };
  const { slot, value } = item.expect;
  let got: string | null = null;
  if (slot === 'yesno') {
    if (item.step === 'phoneChoice') got = state.slots.phone === CALLER_DIGITS ? 'yes' : state.callerIdDeclined ? 'no' : null;
    else got = booked ? 'yes' : state.step === 'fixWhich' || said.includes(config.offline.messages.keptAppointment) ? 'no' : null;
  } else got = state.slots[slot]?.toLowerCase() ?? null;
  if (got === null) return { kind: 'reprompted', correct: false, irreversibleWrong: false, detail: said.slice(0, 60) };
  const correct = got === value;
  return { kind: 'acted', correct, irreversibleWrong: !correct && slot === 'yesno' && booked, detail: `${slot}=${got}` };
}
