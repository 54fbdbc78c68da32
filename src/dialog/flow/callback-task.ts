/**
 * The callback task: when nobody can take a transfer (no answer, declined, outside transfer
 * hours, or no phone system at all) the flow takes the caller's number and a preferred day and
 * time, reads them back (the confirm gate), and stores the request with `request_callback`.
 */
import { formatDateForSpeech } from '../slots/dates.js';
import { formatDigitsForSpeech } from '../slots/digits.js';
import { formatTimeForSpeech } from '../slots/times.js';
import { ask, clearTask, say, today, type Events, type FlowRuntime } from './runtime.js';
import { confirmThenRun, finishTask } from './tasks.js';

/** Starts the task: says `lead` (why), then asks for what is missing. */
export async function* offerCallback(rt: FlowRuntime, lead: string): Events {
  // A number the caller already gave (while booking) is kept; it is read back before anything is stored.
  const phone = rt.state.slots.phone;
  clearTask(rt);
  rt.state.task = 'callback';
  if (phone) rt.state.slots.phone = phone;
  yield* say(rt, lead);
  yield* say(rt, rt.config.transfer.messages.callbackOffer);
  yield* advanceCallback(rt);
}

export async function* advanceCallback(rt: FlowRuntime): Events {
  const s = rt.state;
  const m = rt.config.transfer.messages;
  const { phone, date, time } = s.slots;
  if (!phone) return yield* ask(rt, rt.callerId && !s.callerIdDeclined ? 'phoneChoice' : 'phone');
  if (!date) return yield* ask(rt, 'date', m.callbackWhen);
  if (date < today(rt)) {
    yield* say(rt, rt.config.offline.messages.pastDate);
    delete s.slots.date;
    return yield* ask(rt, 'date', m.callbackWhen);
  }
  if (!time) return yield* ask(rt, 'time', m.callbackTime);
  const vars = { phone: formatDigitsForSpeech(phone), date: formatDateForSpeech(date), time: formatTimeForSpeech(time) };
  const outcome = yield* confirmThenRun(rt, 'request_callback', { phone, date, time });
  if (outcome === 'asked') return;
  if (outcome.ok) {
    yield* say(rt, m.callbackBooked, vars);
    return yield* finishTask(rt);
  }
  if (outcome.error.code === 'aborted') return;
  yield* say(rt, rt.config.offline.messages.toolFailed);
  yield* finishTask(rt);
}
