/**
 * Is what the caller has said so far a whole answer? Deterministic rules over the words recognised
 * at the caller's pause (the offline recogniser's speculative decode, a cloud recogniser's interim
 * results) and what the dialog is waiting for. The endpointer uses the verdict to choose how long
 * to wait before ending the turn: a whole answer is answered fast, a half sentence is waited for.
 *
 * Rules lean to "unknown" (the normal wait) whenever they are not sure: answering early is only
 * right when the answer is clearly whole; waiting longer is only right when it is clearly not.
 */
import { parseDate } from '../slots/dates.js';
import { parseDigitString } from '../slots/digits.js';
import { parseTime } from '../slots/times.js';
import { parseYesNo } from '../slots/yes-no.js';
import { words } from '../slots/normalize.js';

export type Completeness = 'complete' | 'incomplete' | 'unknown';

/** What the dialog expects next, derived from the flow step (or `open` for the LLM brain). */
export type Expectation = 'request' | 'date' | 'time' | 'name' | 'phone' | 'phone-or-yes-no' | 'yes-no' | 'choice' | 'field' | 'open';

const STEP_EXPECTATIONS: Readonly<Record<string, Expectation>> = {
  menu: 'request',
  anythingElse: 'request',
  date: 'date',
  time: 'time',
  name: 'name',
  phone: 'phone',
  phoneChoice: 'phone-or-yes-no',
  confirm: 'yes-no',
  pickBooking: 'choice',
  fixWhich: 'field',
};

export function expectationForStep(step: string | undefined): Expectation {
  return (step && STEP_EXPECTATIONS[step]) || 'open';
}

/**
 * Words a finished sentence does not end on: the caller is mid-phrase ("I would like to…", "my
 * number is…", "tuesday and…"). Only function words that need a continuation: object pronouns and
 * nouns ("book it", "call me", "make a change") end sentences and are not here.
 */
const DANGLING = new Set([
  'and', 'or', 'but', 'so', 'because', 'then', 'if', 'um', 'uh', 'er', 'erm', 'hmm', 'uhm', 'like', 'to', 'the', 'a', 'an',
  'my', 'your', 'our', 'their', 'his', 'her', 'for', 'at', 'on', 'in', 'of', 'with', 'from', 'by', 'into', 'about', 'around',
  'is', 'are', 'was', 'be', 'would', 'could', 'should', 'can', 'will', 'want', 'need', 'i', "i'm", "it's", 'its',
  'called', 'under', 'maybe', 'let', 'well', 'just', 'please', 'actually', 'past', 'than', 'as',
]);
/** A short yes/no answer may end on a modal or "is" ("yes I can", "no it isn't", "yes it is"). */
const YES_NO_LEADS = new Set(['yes', 'yeah', 'yep', 'no', 'nope', 'sure']);
/** "please" ends requests ("book an appointment please") and the yes/no "yes please": not dangling there. */
const CLOSING_PLEASE = 'please';

/** Whole-number lengths callers give (7 local, 10 national, 11 with a leading 1). */
const PHONE_LENGTHS = new Set([7, 10, 11]);

const CHOICE_WORDS = new Set(['first', 'second', 'third', 'last', 'earliest', 'one', 'two', 'three']);
const FIELD_WORDS = new Set(['day', 'date', 'time', 'name', 'phone', 'number']);

export interface CompletenessContext {
  /** Today's date (ISO) for date parsing; any date works, only "is it a date" matters. */
  today?: string;
  /** Whether `text` names a request the dialog understands (an intent match). */
  isRequest?: (text: string) => boolean;
  /** Whether `text` holds a name the dialog knows. */
  isName?: (text: string) => boolean;
}

export function judgeCompleteness(text: string, expect: Expectation, ctx: CompletenessContext = {}): Completeness {
  const tokens = words(text);
  if (tokens.length === 0) return 'unknown';
  const last = tokens.at(-1)!;
  const sentenceEnd = /[.?!]\s*$/.test(text.trim());
  const shortYesNo = YES_NO_LEADS.has(tokens[0]!) && tokens.length <= 4 && !['and', 'but', 'or', 'um', 'uh', 'so'].includes(last);
  if (DANGLING.has(last) && !(last === CLOSING_PLEASE && tokens.length > 1) && !shortYesNo) return 'incomplete';

  const digits = parseDigitString(text);
  if (expect === 'phone' || expect === 'phone-or-yes-no') {
    if (digits !== null) return PHONE_LENGTHS.has(digits.length) ? 'complete' : digits.length < 10 ? 'incomplete' : 'unknown';
  } else if (digits !== null && digits.length >= 3 && digits.length < 10 && tokens.length >= 3) {
    // A string of digits outside a phone step is most likely a number still being read out.
    return 'incomplete';
  }

  switch (expect) {
    case 'yes-no':
    case 'phone-or-yes-no':
      return parseYesNo(text) !== null ? 'complete' : 'unknown';
    case 'date':
      if (parseDate(text, ctx.today ?? '2026-01-05') !== null) return 'complete';
      return parseTime(text) !== null ? 'complete' : 'unknown';
    case 'time':
      return timeIsWhole(tokens, text) ? 'complete' : 'unknown';
    case 'name':
      return ctx.isName?.(text) ? 'complete' : 'unknown';
    case 'choice':
      return tokens.some((t) => CHOICE_WORDS.has(t)) || parseYesNo(text) !== null ? 'complete' : 'unknown';
    case 'field':
      return tokens.some((t) => FIELD_WORDS.has(t)) || parseTime(text) !== null ? 'complete' : 'unknown';
    case 'request':
      if (ctx.isRequest?.(text)) return 'complete';
      return parseYesNo(text) !== null && tokens.length <= 3 ? 'complete' : 'unknown';
    case 'open':
    case 'phone':
      // A cloud recogniser punctuates: a sentence that ends is a good sign the caller is done.
      return sentenceEnd && tokens.length >= 1 ? 'complete' : 'unknown';
  }
}

/**
 * A time is whole when it carries minutes, a.m./p.m. or "o'clock", or is a named time ("noon").
 * A bare "at ten" may still get its "thirty": that is "unknown", not complete.
 */
function timeIsWhole(tokens: readonly string[], text: string): boolean {
  if (parseTime(text) === null) return false;
  const t = tokens.join(' ');
  if (/\b(noon|midday|clock|morning|afternoon|evening|a m|p m|am|pm|past)\b/.test(t) || /\d:\d\d/.test(t)) return true;
  // "ten thirty", "two oh five": an hour followed by minute words (lead-ins like "at" skipped).
  const rest = tokens.slice(tokens.findIndex((w) => !TIME_LEAD_INS.has(w)));
  return rest.length >= 2 && MINUTE_START.has(rest[1]!);
}

const TIME_LEAD_INS = new Set(['at', 'about', 'around', 'say', 'by', 'it', 'is', 'make', 'how', 'maybe']);
const MINUTE_START = new Set(['oh', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen', 'twenty', 'thirty', 'forty', 'fifty']);
