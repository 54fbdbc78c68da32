/**
 * Per-step speech grammars and keywords. Each step's grammar covers what that step accepts plus
 * the global phrases (operator, repeat, goodbye, start over), so the offline recogniser can only
 * return things the flow understands. Rules mirror the slot parsers in ../slots.
 */
import type { IntentConfig, StepName } from '../../config/dialog-schema.js';
import type { SttHints } from '../../speech/stt.js';
import { MONTHS, WEEKDAYS } from '../slots/dates.js';
import { DIGIT_WORDS, dayOrdinalWords, numberToWords } from '../slots/numbers.js';
import { alt, buildJsgf } from './jsgf.js';

export type Task = 'book' | 'reschedule' | 'cancel' | 'callback';

export interface GrammarContext {
  intents: readonly IntentConfig[];
  /** First names the name step accepts (lower case). */
  names: readonly string[];
  /** Service names (lower case words). */
  services: readonly string[];
}

export interface ListenSpec {
  step: StepName;
  task: Task | null;
}

const UNITS = DIGIT_WORDS.slice(1);
const MINUTES = [
  ...UNITS.map((u) => `oh ${u}`),
  ...Array.from({ length: 10 }, (_, i) => numberToWords(i + 10)),
  ...['twenty', 'thirty', 'forty', 'fifty'].flatMap((t) => [t, ...UNITS.map((u) => `${t} ${u}`)]),
];
const HOURS = Array.from({ length: 12 }, (_, i) => numberToWords(i + 1));
const YES = [
  'yes', 'yeah', 'yep', 'yup', 'yes please', 'correct', 'that is right', 'that is correct', 'right', 'sure', 'okay', 'absolutely',
  'sounds good', 'sounds great', 'that sounds good', 'that sounds great', 'that sounds right', 'perfect', 'exactly', 'that is fine',
  'fine', 'that works', 'go ahead', 'definitely', 'of course',
];
const NO = [
  'no', 'nope', 'nah', 'no thanks', 'no thank you', 'that is wrong', 'that is not right', 'that is not correct', 'not correct',
  'not quite', 'wrong', 'incorrect', 'no no', 'no it is not', 'do not',
];
const LEAD = ['i want to', 'i would like to', 'i need to', 'can i', 'i would like', 'i want', 'i need', 'could i', 'please', 'i want to know', 'what are your', 'what is your'];
const TAIL = ['an appointment', 'my appointment', 'please', 'appointment', 'a visit'];
const CORRECTION_LEAD = ['make it', 'it should be', 'change it to', 'i said', 'actually', 'change the time to', 'change the day to', 'it is'];
/**
 * Words callers wrap a slot answer in ("um how about Friday please"). Without them the grammar has
 * to force "maybe" onto "may" or "um" onto "on", so the answer comes back as a different value.
 * Generic hesitations and carrier phrases of spoken English, not any one caller's wording.
 */
/** One hesitation at most, and never a yes/no word ("okay" before a date must not become a yes). */
const HESITATION = ['um', 'uh', 'er', 'oh', 'well', 'so'];
const SLOT_LEAD = [
  'it is', 'it would be', 'that would be', 'that is', 'how about', 'what about', 'maybe', 'perhaps', 'probably', 'i guess',
  'i think', 'i would say', 'let us say', 'let us do', 'let us go with', 'can we do', 'could we do', 'can you do', 'do you have',
  'is there', 'i would like', 'i would prefer', 'i prefer', 'preferably', 'i can do', 'i can come', 'i could do', 'i could come',
  'ideally', 'any time', 'anytime', 'sometime', 'something', 'i am free', 'i am available', 'either', 'just', 'actually',
];
const SLOT_TAIL = [
  'please', 'thanks', 'thank you', 'i think', 'i guess', 'maybe', 'if possible', 'if you can', 'if you have it', 'if you have one',
  'if that works', 'if that is okay', 'if that is available', 'would be good', 'would be great', 'would be fine', 'would be best',
  'would be nice', 'would work', 'works', 'works for me', 'works best', 'is good', 'is fine', 'is better', 'is best', 'is okay',
  'would suit me', 'suits me', 'for me', 'then', 'or so', 'or later', 'or earlier', 'at the latest', 'at the earliest',
];
/** Spoken phone numbers: 3-3-4 groups (NANP), 3-4 local, or a leading one/country digit. */
const DIGIT_GROUP_3 = '<digit> <digit> <digit> | (double | triple) <digit> | double <digit> <digit> | <digit> double <digit>';
const DIGIT_GROUP_4 =
  '<digit> <digit> <digit> <digit> | double <digit> <digit> <digit> | <digit> double <digit> <digit> | <digit> <digit> double <digit> | double <digit> double <digit> | triple <digit> <digit> | <digit> triple <digit> | (double | triple) (zero | oh) | double (zero | oh)';

function baseRules(ctx: GrammarContext): Map<string, string> {
  const rules = new Map<string, string>();
  const globals = ctx.intents.filter((i) => i.global);
  const globalPhrases = globals.flatMap((i) => [...i.examples, ...i.keywords]);
  rules.set('global', `[${alt(LEAD)}] ${alt(globalPhrases.length ? globalPhrases : ['goodbye'])}`);
  // Two yes-phrases at most ("yes that is right"): a loop of them would absorb any noise as a yes.
  rules.set('yes', `${alt(YES)} [${alt(YES)}] [please]`);
  rules.set('no', alt(NO));
  rules.set('digit', alt([...DIGIT_WORDS, 'oh']));
  // Bounded on purpose: a loop of fillers would let the grammar explain any audio as "uh um er ...".
  rules.set('hesitation', alt(HESITATION));
  rules.set('slot_lead', `[<hesitation>] [${alt(SLOT_LEAD)}]`);
  rules.set('slot_tail', `[${alt(SLOT_TAIL)}]`);
  rules.set('three_digits', DIGIT_GROUP_3);
  rules.set('four_digits', DIGIT_GROUP_4);
  // Counted, not "digits until the caller stops": an open digit loop lets line noise and carrier
  // words become extra digits ("you can reach me at" -> "use three oh three ...").
  rules.set('digits', '[one] <three_digits> <three_digits> <four_digits> | <three_digits> <four_digits>');
  rules.set(
    'phone',
    `[<hesitation>] [${alt(['my number is', 'my phone number is', 'the number is', 'my cell is', 'my mobile is', 'it is', 'that is', 'use', 'you can reach me at', 'reach me at', 'call me at', 'try', 'you can call me at', 'my cell phone is'])}] [<hesitation>] <digits> [${alt(SLOT_TAIL)}]`,
  );
  rules.set('weekday', alt([...WEEKDAYS]));
  rules.set('month', alt([...MONTHS]));
  rules.set('ordinal', alt(dayOrdinalWords()));
  rules.set('date', `[on] (today | tomorrow | the day after tomorrow | [this | next] <weekday> [next week] | [the] <ordinal> [of <month>] | <month> [the] <ordinal>)`);
  rules.set('hour', alt(HOURS));
  rules.set('minute', alt(MINUTES));
  rules.set('ampm', alt(['a m', 'p m', 'in the morning', 'in the afternoon', 'in the evening', 'o clock', 'o clock in the morning', 'o clock in the afternoon']));
  rules.set(
    'time',
    `[at | around | about] (<hour> [<minute>] [<ampm>] | (half | quarter | five | ten | twenty | twenty five) (past | to) <hour> [<ampm>] | noon | midday | twelve noon)`,
  );
  rules.set('datetime', '<date> [<time>] | <time> [<date>]');
  rules.set('name', alt(ctx.names.length ? ctx.names : ['alex']));
  rules.set('name_answer', `[${alt(['my name is', 'it is', 'this is', 'the name is', 'put it under', 'under', 'name is'])}] <name> [<name>]`);
  const menuIntents = ctx.intents.filter((i) => !i.global);
  const menu = menuIntents.flatMap((i) => i.examples);
  const keywords = menuIntents.flatMap((i) => i.keywords);
  const services = ctx.services.length ? ctx.services : ['checkup'];
  rules.set('service', alt(services));
  rules.set(
    'menu',
    `${alt(menu.length ? menu : ['book'])} [<menu_extra>] | [${alt(LEAD)}] ${alt(keywords.length ? keywords : ['book'])} [<menu_extra>]`,
  );
  rules.set('menu_extra', `(${TAIL.join(' | ')} | [for] [a | an] <service> [appointment] | <datetime> | for <datetime>)+`);
  return rules;
}

/** The public expansion per step (before the globals are added). */
function stepExpansion(spec: ListenSpec): string {
  const bookingCorrections = spec.task === 'book' ? '<datetime> | <name_answer> | <phone>' : spec.task === 'callback' ? '<datetime> | <phone>' : '<datetime>';
  switch (spec.step) {
    case 'menu':
      return '<menu>';
    case 'anythingElse':
      return '<menu> | <yes> | <no> | no that is all | no thanks that is all';
    case 'date':
    case 'time':
      return `<slot_lead> (<datetime> | the first one | the second one | the third one | first | second | third | the earliest | the first | the second) <slot_tail>`;
    case 'name':
      return '[<hesitation>] [sure] <name_answer> [please | thanks | thank you]';
    case 'phoneChoice':
      // No hesitation prefix at yes/no questions: the breath before a short "yes" became "uh".
      return '<yes> | <no> [<phone>] | <phone>';
    case 'phone':
      return '<phone>';
    case 'clarify':
      return '<yes> | <no>';
    case 'pickBooking':
      return '[the] (first | second | third | last) [one] | one | two | three | <date> | [the one on] <date> | <yes> | <no>';
    case 'confirm':
      // A correction needs its "no" or its lead ("make it ..."): a bare slot value at a yes/no
      // question is rare, and allowing it lets "correct" come back as "karen".
      return spec.task === 'cancel' ? '<yes> | <no>' : `<yes> | <no> [${alt(CORRECTION_LEAD)}] [${bookingCorrections}] | ${alt(CORRECTION_LEAD)} (${bookingCorrections})`;
    case 'fixWhich':
      return `[${alt(['the', 'change the', 'the wrong one is the', 'it is the'])}] (day | date | time | name | phone number | number) | [${alt(CORRECTION_LEAD)}] (${bookingCorrections})`;
  }
}

const STEP_KEYWORDS: Partial<Record<StepName, readonly string[]>> = {
  date: ['today', 'tomorrow', ...WEEKDAYS, ...MONTHS],
  time: ['a m', 'p m', 'noon', 'half past', 'quarter'],
  phone: DIGIT_WORDS,
  phoneChoice: ['yes', 'no', ...DIGIT_WORDS],
  confirm: ['yes', 'no', 'correct'],
  clarify: ['yes', 'no'],
  pickBooking: ['first', 'second', 'third'],
};

export function stepHints(spec: ListenSpec, ctx: GrammarContext): SttHints {
  const jsgf = buildJsgf('flow', `${stepExpansion(spec)} | <global>`, baseRules(ctx));
  const globalWords = ctx.intents.filter((i) => i.global).flatMap((i) => i.keywords);
  const stepWords =
    spec.step === 'menu' || spec.step === 'anythingElse'
      ? ctx.intents.flatMap((i) => i.keywords)
      : spec.step === 'name'
        ? ctx.names
        : (STEP_KEYWORDS[spec.step] ?? []);
  return { jsgf, keywords: [...new Set([...stepWords, ...globalWords])].slice(0, 100) };
}
