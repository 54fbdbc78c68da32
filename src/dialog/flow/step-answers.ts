/**
 * What the caller's answer means in each step. Each handler either understands the answer (updates
 * state, advances the task, returns true) or returns false so the session counts a miss.
 * Speech and keypad answers land on the same paths.
 */
import type { IntentConfig } from '../../config/dialog-schema.js';
import type { BrainEvent } from '../brain.js';
import { intentForKey, matchIntent } from '../intents.js';
import { parseDate, parseKeypadDate } from '../slots/dates.js';
import { parseDigitString, parseKeypadEntry } from '../slots/digits.js';
import { containsPhrase, words } from '../slots/normalize.js';
import { parseKeypadTime, parseTime } from '../slots/times.js';
import { parseYesNo } from '../slots/yes-no.js';
import type { StepName } from '../../config/dialog-schema.js';
import type { FormSlot } from './flow-state.js';
import { ask, say, today, type FlowRuntime } from './runtime.js';
import { advance, finishTask } from './tasks.js';

export type Answer = { kind: 'speech'; text: string } | { kind: 'dtmf'; digits: string };
type Handled = AsyncGenerator<BrainEvent, boolean, undefined>;
/** Runs an intent's action (menus, globals); provided by the session. */
export type IntentRunner = (rt: FlowRuntime, intent: IntentConfig, text: string) => AsyncGenerator<BrainEvent, void, undefined>;

const ORDINAL_PICKS: ReadonlyArray<readonly [string, number]> = [
  ['first', 0], ['earliest', 0], ['second', 1], ['third', 2], ['one', 0], ['two', 1], ['three', 2],
];

/** "the second one" → 1; "the last one" → count - 1. */
function pickIndex(text: string, count: number): number | null {
  const t = words(text);
  if (t.includes('last')) return count - 1;
  for (const [word, index] of ORDINAL_PICKS) if (t.includes(word) && index < count) return index;
  return null;
}

/** Slot values stated in a correction ("no, make it four p m", "no, it is Sam"). */
function parseCorrections(rt: FlowRuntime, text: string): Partial<Record<FormSlot, string>> {
  const out: Partial<Record<FormSlot, string>> = {};
  const digits = parseDigitString(text);
  if (digits !== null && digits.length >= 7) out.phone = digits;
  else {
    const date = parseDate(text, today(rt));
    const time = parseTime(text, rt.window);
    const name = rt.parseName(text);
    if (date) out.date = date;
    if (time) out.time = time;
    if (name) out.name = name;
  }
  const task = rt.state.task;
  const allowed: readonly FormSlot[] =
    task === 'book' ? ['name', 'phone', 'date', 'time'] : task === 'callback' ? ['phone', 'date', 'time'] : task === 'reschedule' ? ['date', 'time'] : [];
  return Object.fromEntries(Object.entries(out).filter(([k]) => allowed.includes(k as FormSlot)));
}

/** Writes new slot values; a new date or time invalidates the availability check. */
function applySlots(rt: FlowRuntime, values: Partial<Record<FormSlot, string>>): void {
  const s = rt.state;
  for (const [key, value] of Object.entries(values) as [FormSlot, string][]) {
    if ((key === 'date' || key === 'time') && s.slots[key] !== value) {
      s.checked = null;
      if (key === 'date') s.offered = [];
    }
    s.slots[key] = value;
  }
}

/** Whether `text` answers the current step (no side effects): the understanding layer asks. */
export function canAnswer(rt: FlowRuntime, text: string): boolean {
  const s = rt.state;
  const yesNo = parseYesNo(text) !== null;
  const digits = parseDigitString(text);
  const isPhone = digits !== null && digits.length >= 7 && digits.length <= 15;
  switch (s.step) {
    case 'menu':
      return false;
    case 'anythingElse':
    case 'clarify':
      return yesNo;
    case 'date':
    case 'time':
      return (s.step === 'time' && s.offered.length > 0 && pickIndex(text, s.offered.length) !== null) || parseDate(text, today(rt)) !== null || parseTime(text, rt.window) !== null;
    case 'name':
      return rt.parseName(text) !== null;
    case 'phone':
      return isPhone;
    case 'phoneChoice':
      return isPhone || yesNo;
    case 'pickBooking':
      return pickIndex(text, s.bookings.length) !== null || s.bookings.some((b) => b.date === parseDate(text, today(rt)));
    case 'confirm':
      return yesNo || Object.keys(parseCorrections(rt, text)).length > 0;
    case 'fixWhich': {
      const t = words(text);
      return Object.keys(parseCorrections(rt, text)).length > 0 || ['phone', 'number', 'day', 'date', 'time', 'name'].some((w) => t.includes(w));
    }
  }
}

/** The caller's answer as every step reads it. */
interface Heard {
  answer: Answer;
  /** The words (speech), else ''. */
  text: string;
  /** The keys (keypad), else ''. */
  keys: string;
  /** Yes/no by voice, or 1/2 on the keypad. */
  yesNo: 'yes' | 'no' | null;
  runIntent: IntentRunner;
}

type StepHandler = (rt: FlowRuntime, heard: Heard) => Handled;

export async function* answerStep(rt: FlowRuntime, answer: Answer, runIntent: IntentRunner): Handled {
  const text = answer.kind === 'speech' ? answer.text : '';
  const keys = answer.kind === 'dtmf' ? parseKeypadEntry(answer.digits) : '';
  const yesNo = answer.kind === 'speech' ? parseYesNo(text) : keys === '1' ? 'yes' : keys === '2' ? 'no' : null;
  return yield* STEP_HANDLERS[rt.state.step](rt, { answer, text, keys, yesNo, runIntent });
}

/** A request at the menu or at "anything else?" (there, a bare no is goodbye). */
async function* answerMenu(rt: FlowRuntime, heard: Heard): Handled {
  const s = rt.state;
  const { text, yesNo, answer } = heard;
  const intent = answer.kind === 'speech' ? matchIntent(text, rt.config.offline.intents) : intentForKey(answer.digits, rt.config.offline.intents);
  if (intent) {
    yield* heard.runIntent(rt, intent, text);
    return true;
  }
  if (s.step === 'anythingElse' && answer.kind === 'speech' && yesNo) {
    const goodbye = rt.config.offline.intents.find((i) => i.action === 'goodbye');
    if (yesNo === 'no' && goodbye) yield* heard.runIntent(rt, goodbye, text);
    else yield* ask(rt, 'menu');
    return true;
  }
  return false;
}

/** A date and/or time (or a pick among offered times), by voice or keypad. */
async function* answerDateOrTime(rt: FlowRuntime, heard: Heard): Handled {
  const s = rt.state;
  const { text, keys, answer } = heard;
  const values: Partial<Record<FormSlot, string>> = {};
  const pick = s.step === 'time' && s.offered.length > 0 && answer.kind === 'speech' ? pickIndex(text, s.offered.length) : null;
  if (pick !== null) values.time = s.offered[pick]!;
  else if (answer.kind === 'speech') {
    const date = parseDate(text, today(rt));
    const time = parseTime(text, rt.window);
    if (date) values.date = date;
    if (time) values.time = time;
  } else {
    const slot = s.step === 'date' ? 'date' : 'time';
    const value = slot === 'date' ? parseKeypadDate(keys, today(rt)) : parseKeypadTime(keys, rt.window);
    if (value) values[slot] = value;
  }
  if (Object.keys(values).length === 0) return false;
  applySlots(rt, values);
  // An offered time was free a moment ago: no need to ask the calendar again before the read-back
  // (book_appointment still rejects it if someone took it meanwhile).
  if (pick !== null && s.slots.date) s.checked = `${s.slots.date} ${values.time}`;
  yield* advance(rt);
  return true;
}

/** The caller's name. */
async function* answerName(rt: FlowRuntime, heard: Heard): Handled {
  const { text, answer } = heard;
  const name = answer.kind === 'speech' ? rt.parseName(text) : null;
  if (!name) return false;
  applySlots(rt, { name });
  yield* advance(rt);
  return true;
}

/** A phone number, or yes/no to the number they are calling from. */
async function* answerPhone(rt: FlowRuntime, heard: Heard): Handled {
  const s = rt.state;
  const { text, keys, yesNo, answer } = heard;
  const digits = answer.kind === 'speech' ? parseDigitString(text) : keys;
  if (digits !== null && digits.length >= 7 && digits.length <= 15) {
    applySlots(rt, { phone: digits });
  } else if (s.step === 'phoneChoice' && yesNo === 'yes' && rt.callerId) {
    applySlots(rt, { phone: rt.callerId });
  } else if (s.step === 'phoneChoice' && yesNo === 'no') {
    s.callerIdDeclined = true;
    yield* ask(rt, 'phone');
    return true;
  } else return false;
  yield* advance(rt);
  return true;
}

/** Which of the caller's bookings ("the second one", its date, or its key). */
async function* answerPickBooking(rt: FlowRuntime, heard: Heard): Handled {
  const s = rt.state;
  const { text, keys, answer } = heard;
  let index = answer.kind === 'dtmf' ? (keys.length === 1 ? Number(keys) - 1 : -1) : (pickIndex(text, s.bookings.length) ?? -1);
  if (answer.kind === 'speech' && index < 0) {
    const date = parseDate(text, today(rt));
    const onDate = s.bookings.filter((b) => b.date === date);
    if (onDate.length === 1) index = s.bookings.indexOf(onDate[0]!);
  }
  const booking = s.bookings[index];
  if (!booking) return false;
  s.target = booking;
  yield* advance(rt);
  return true;
}

/** The read-back: yes, no, or a correction. */
async function* answerConfirm(rt: FlowRuntime, heard: Heard): Handled {
  const s = rt.state;
  const { text, keys, yesNo, answer } = heard;
  const corrections = answer.kind === 'speech' ? parseCorrections(rt, text) : {};
  if (Object.keys(corrections).length > 0) {
    rt.tools.answer({ kind: 'no', corrections });
    applySlots(rt, corrections);
    yield* advance(rt);
    return true;
  }
  if (yesNo === null) return false;
  const outcome = rt.tools.answer(yesNo === 'yes' ? { kind: 'yes' } : { kind: 'no' });
  if (outcome.kind === 'confirmed') {
    yield { type: 'slots', slots: { ...rt.tools.confirmed } };
    yield* advance(rt);
  } else if (outcome.kind === 'not-heard') {
    rt.tools.repeated();
    yield* say(rt, rt.config.offline.messages.notHeardYet);
    yield* say(rt, rt.config.offline.messages.confirmLead, { readBack: outcome.readBack });
    yield* ask(rt, 'confirm');
  } else if (s.task === 'cancel') {
    yield* say(rt, rt.config.offline.messages.keptAppointment);
    yield* finishTask(rt);
  } else {
    yield* ask(rt, 'fixWhich');
  }
  return true;
}

/** Yes/no to "did you want to …?": the intent runs from where the caller was, or the step is asked again. */
async function* answerClarify(rt: FlowRuntime, heard: Heard): Handled {
  const s = rt.state;
  const { text, yesNo } = heard;
  const pending = s.clarify;
  const intent = pending && rt.config.offline.intents.find((i) => i.id === pending.intentId);
  if (!pending || !intent || yesNo === null) return false;
  s.clarify = null;
  if (yesNo === 'yes') {
    s.step = pending.returnStep; // the intent runs from where the caller was
    yield* heard.runIntent(rt, intent, pending.text);
  } else {
    yield* say(rt, rt.config.offline.messages.clarifyDeclined);
    yield* ask(rt, pending.returnStep);
  }
  return true;
}

/** Which value to change after a no at the read-back. */
async function* answerFixWhich(rt: FlowRuntime, heard: Heard): Handled {
  const s = rt.state;
  const { text, keys, answer } = heard;
  const corrections = answer.kind === 'speech' ? parseCorrections(rt, text) : {};
  if (Object.keys(corrections).length > 0) {
    applySlots(rt, corrections);
    yield* advance(rt);
    return true;
  }
  const t = words(text);
  const slot: FormSlot | null =
    containsPhrase(t, ['phone']) || containsPhrase(t, ['number']) ? 'phone'
      : containsPhrase(t, ['day']) || containsPhrase(t, ['date']) ? 'date'
        : containsPhrase(t, ['time']) ? 'time'
          : containsPhrase(t, ['name']) && s.task === 'book' ? 'name'
            : null;
  if (!slot) return false;
  delete s.slots[slot];
  if (slot === 'date' || slot === 'time') s.checked = null;
  if (slot === 'phone') s.callerIdDeclined = true;
  yield* advance(rt);
  return true;
}

const STEP_HANDLERS: Record<StepName, StepHandler> = {
  menu: answerMenu,
  anythingElse: answerMenu,
  date: answerDateOrTime,
  time: answerDateOrTime,
  name: answerName,
  phoneChoice: answerPhone,
  phone: answerPhone,
  pickBooking: answerPickBooking,
  confirm: answerConfirm,
  clarify: answerClarify,
  fixWhich: answerFixWhich,
};
