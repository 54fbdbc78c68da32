/**
 * Task advancement: after every understood answer the flow calls `advance`, which finds the first
 * thing the current task still lacks (a slot, an availability check, a lookup, a confirmation)
 * and asks for it or runs the tool. Corrections simply clear or replace slots and call it again.
 */
import type { Booking } from '../../tools/calendar-schemas.js';
import type { ToolOutcome } from '../tool-invoker.js';
import { formatDateForSpeech } from '../slots/dates.js';
import { formatDigitsForSpeech } from '../slots/digits.js';
import { numberToWords, ordinalToWords } from '../slots/numbers.js';
import { formatTimeForSpeech, toMinutes } from '../slots/times.js';
import { fillTemplate, joinList } from '../templates.js';
import { advanceCallback } from './callback-task.js';
import { ask, callTool, clearTask, filler, runTool, say, today, type Events, type FlowRuntime } from './runtime.js';

type GatedTool = 'book_appointment' | 'reschedule_appointment' | 'cancel_appointment' | 'request_callback';

const spokenDate = formatDateForSpeech;
const spokenTime = formatTimeForSpeech;

export async function* advance(rt: FlowRuntime): Events {
  const task = rt.state.task;
  if (task === 'book') yield* advanceBooking(rt);
  else if (task === 'reschedule' || task === 'cancel') yield* advanceExisting(rt, task);
  else if (task === 'callback') yield* advanceCallback(rt);
  else yield* ask(rt, 'anythingElse');
}

/** Ends the task (done, failed or abandoned) and offers more help. */
export function* finishTask(rt: FlowRuntime): Generator<import('../brain.js').BrainEvent> {
  clearTask(rt);
  yield* ask(rt, 'anythingElse');
}

async function* advanceBooking(rt: FlowRuntime): Events {
  const s = rt.state;
  const { date, time, name, phone, service } = s.slots;
  if (!date) return yield* ask(rt, 'date');
  if (date < today(rt)) {
    yield* say(rt, rt.config.offline.messages.pastDate);
    delete s.slots.date;
    return yield* ask(rt, 'date');
  }
  if (!time) return yield* ask(rt, 'time');
  if (s.checked !== `${date} ${time}` && !(yield* checkAvailability(rt, date, time))) return;
  if (!name) return yield* ask(rt, 'name');
  if (!phone) return yield* ask(rt, rt.callerId && !s.callerIdDeclined ? 'phoneChoice' : 'phone');
  const args = { name, phone, date, time, ...(service ? { service } : {}) };
  const outcome = yield* confirmThenRun(rt, 'book_appointment', args);
  if (outcome === 'asked') return;
  if (outcome.ok) {
    yield* say(rt, rt.config.offline.messages.booked, { name, phone: formatDigitsForSpeech(phone), date: spokenDate(date), time: spokenTime(time) });
    return yield* finishTask(rt);
  }
  yield* handleWriteError(rt, outcome.error.code);
}

async function* advanceExisting(rt: FlowRuntime, task: 'reschedule' | 'cancel'): Events {
  const s = rt.state;
  const { phone } = s.slots;
  if (!phone) return yield* ask(rt, rt.callerId && !s.callerIdDeclined ? 'phoneChoice' : 'phone');
  if (s.lookedUpPhone !== phone && !(yield* lookUpBookings(rt, phone))) return;
  const target = s.target;
  if (!target) return yield* ask(rt, 'pickBooking');
  const old = { oldDate: spokenDate(target.date), oldTime: spokenTime(target.time) };
  if (task === 'cancel') {
    const vars = { date: old.oldDate, time: old.oldTime };
    const outcome = yield* confirmThenRun(rt, 'cancel_appointment', { bookingId: target.bookingId });
    if (outcome === 'asked') return;
    if (outcome.ok) {
      yield* say(rt, rt.config.offline.messages.cancelled, vars);
      return yield* finishTask(rt);
    }
    return yield* handleWriteError(rt, outcome.error.code);
  }
  const { date, time } = s.slots;
  if (!date) return yield* ask(rt, 'date', rt.config.offline.messages.askNewDate);
  if (!time) return yield* ask(rt, 'time');
  if (s.checked !== `${date} ${time}` && !(yield* checkAvailability(rt, date, time))) return;
  const vars = { ...old, date: spokenDate(date), time: spokenTime(time) };
  const outcome = yield* confirmThenRun(rt, 'reschedule_appointment', { bookingId: target.bookingId, date, time });
  if (outcome === 'asked') return;
  if (outcome.ok) {
    yield* say(rt, rt.config.offline.messages.rescheduled, vars);
    return yield* finishTask(rt);
  }
  yield* handleWriteError(rt, outcome.error.code);
}

/**
 * A state-changing tool: the gated invoker runs it only with confirmed values; otherwise it hands
 * back the read-back, which is spoken and asked (the confirm step passes the answer to the gate).
 */
export async function* confirmThenRun(rt: FlowRuntime, tool: GatedTool, args: Record<string, unknown>): AsyncGenerator<import('../brain.js').BrainEvent, ToolOutcome | 'asked'> {
  const run = yield* runTool(rt, tool, args);
  if (run.status === 'needs-confirmation') {
    yield* say(rt, rt.config.offline.messages.confirmLead, { readBack: run.readBack });
    yield* ask(rt, 'confirm');
    return 'asked';
  }
  return run.status === 'ran' ? run.outcome : { ok: false, error: run.error };
}

async function* handleWriteError(rt: FlowRuntime, code: string): Events {
  const s = rt.state;
  const m = rt.config.offline.messages;
  if (code === 'aborted') return;
  if (code === 'slot-taken') {
    // Re-check so the caller hears the nearest free times instead of a bare "taken".
    s.checked = null;
    return yield* advance(rt);
  }
  if ((code === 'closed' || code === 'past') && s.slots.date) {
    yield* say(rt, code === 'closed' ? m.closed : m.pastDate, { date: spokenDate(s.slots.date) });
    delete s.slots.date;
    delete s.slots.time;
    s.checked = null;
    return yield* ask(rt, 'date');
  }
  yield* say(rt, code === 'unavailable' ? m.storeUnavailable : m.toolFailed);
  yield* finishTask(rt);
}

/** The requested time is free → true. Otherwise speaks alternatives, asks again and → false. */
async function* checkAvailability(rt: FlowRuntime, date: string, time: string): AsyncGenerator<import('../brain.js').BrainEvent, boolean> {
  const s = rt.state;
  const m = rt.config.offline.messages;
  yield* filler(rt);
  const outcome = yield* callTool(rt, 'check_availability', { date, time });
  if (!outcome.ok) {
    yield* handleWriteError(rt, outcome.error.code);
    return false;
  }
  const result = outcome.result as { available?: string[]; requestedFree?: boolean };
  const available = result.available ?? [];
  if (result.requestedFree === true || (result.requestedFree === undefined && available.includes(time))) {
    s.checked = `${date} ${time}`;
    s.offered = [];
    return true;
  }
  delete s.slots.time;
  s.checked = null;
  if (available.length === 0) {
    const weekday = spokenDate(date).split(',')[0]!.toLowerCase();
    const closed = rt.config.business.schedule.hours[weekday as keyof typeof rt.config.business.schedule.hours] === undefined;
    yield* say(rt, closed ? m.closed : m.dayFull, { date: spokenDate(date) });
    delete s.slots.date;
    yield* ask(rt, 'date');
    return false;
  }
  const wanted = toMinutes(time);
  s.offered = [...available]
    .sort((a, b) => Math.abs(toMinutes(a) - wanted) - Math.abs(toMinutes(b) - wanted) || a.localeCompare(b))
    .slice(0, rt.config.offline.offerCount)
    .sort();
  yield* say(rt, m.slotTaken, { date: spokenDate(date), time: spokenTime(time) });
  yield* ask(rt, 'time', fillTemplate(m.offerTimes, { times: joinList(s.offered.map(spokenTime), 'or') }));
  return false;
}

/** Loads the caller's bookings; picks the only one. False when there is nothing to act on. */
async function* lookUpBookings(rt: FlowRuntime, phone: string): AsyncGenerator<import('../brain.js').BrainEvent, boolean> {
  const s = rt.state;
  const m = rt.config.offline.messages;
  yield* filler(rt);
  const outcome = yield* callTool(rt, 'find_bookings', { phone });
  if (!outcome.ok) {
    if (outcome.error.code !== 'aborted') {
      yield* say(rt, outcome.error.code === 'unavailable' ? m.storeUnavailable : m.toolFailed);
      yield* finishTask(rt);
    }
    return false;
  }
  const bookings = ((outcome.result as { bookings?: Booking[] }).bookings ?? []).filter((b) => b.status === 'booked');
  s.lookedUpPhone = phone;
  s.bookings = bookings;
  s.target = bookings.length === 1 ? bookings[0]! : null;
  if (bookings.length === 0) {
    yield* say(rt, m.noBookings, { phone: formatDigitsForSpeech(phone) });
    yield* finishTask(rt);
    return false;
  }
  if (s.target) {
    yield* say(rt, m.foundOne, { date: spokenDate(s.target.date), time: spokenTime(s.target.time) });
    return true;
  }
  const list = bookings.map((b, i) => `the ${ordinalToWords(i + 1)} on ${spokenDate(b.date)} at ${spokenTime(b.time)}`);
  yield* say(rt, m.foundMany, { count: numberToWords(bookings.length), list: joinList(list) });
  return true;
}
