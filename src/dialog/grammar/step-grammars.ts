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

export type Task = 'book' | 'reschedule' | 'cancel';

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
const YES = ['yes', 'yeah', 'yep', 'yup', 'yes please', 'correct', 'that is right', 'that is correct', 'right', 'sure', 'okay', 'absolutely', 'sounds good', 'perfect', 'exactly'];
const NO = ['no', 'nope', 'nah', 'no thanks', 'no thank you', 'that is wrong', 'that is not right', 'wrong', 'incorrect'];
const LEAD = ['i want to', 'i would like to', 'i need to', 'can i', 'i would like', 'i want', 'i need', 'could i', 'please', 'i want to know', 'what are your', 'what is your'];
const TAIL = ['an appointment', 'my appointment', 'please', 'appointment', 'a visit'];
const CORRECTION_LEAD = ['make it', 'it should be', 'change it to', 'i said', 'actually', 'change the time to', 'change the day to', 'it is'];

function baseRules(ctx: GrammarContext): Map<string, string> {
  const rules = new Map<string, string>();
  const globals = ctx.intents.filter((i) => i.global);
  const globalPhrases = globals.flatMap((i) => [...i.examples, ...i.keywords]);
  rules.set('global', `[${alt(LEAD)}] ${alt(globalPhrases.length ? globalPhrases : ['goodbye'])}`);
  rules.set('yes', `(${alt(YES)})+ [please]`);
  rules.set('no', alt(NO));
  rules.set('digit', alt([...DIGIT_WORDS, 'oh']));
  rules.set('digits', '([double | triple] <digit>)+');
  rules.set('phone', `[${alt(['my number is', 'it is', 'the number is', 'my phone number is', 'use'])}] <digits>`);
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
  const bookingCorrections = spec.task === 'book' ? '<datetime> | <name_answer> | <phone>' : '<datetime>';
  switch (spec.step) {
    case 'menu':
      return '<menu>';
    case 'anythingElse':
      return '<menu> | <yes> | <no> | no that is all | no thanks that is all';
    case 'date':
    case 'time':
      return `<datetime> | the first one | the second one | the third one | first | second | third | the earliest | the first | the second`;
    case 'name':
      return '<name_answer>';
    case 'phoneChoice':
      return '<yes> | <no> [<phone>] | <phone>';
    case 'phone':
      return '<phone>';
    case 'clarify':
      return '<yes> | <no>';
    case 'pickBooking':
      return '[the] (first | second | third | last) [one] | one | two | three | <date> | [the one on] <date> | <yes> | <no>';
    case 'confirm':
      return spec.task === 'cancel' ? '<yes> | <no>' : `<yes> | <no> [${alt(CORRECTION_LEAD)}] [${bookingCorrections}] | [${alt(CORRECTION_LEAD)}] (${bookingCorrections})`;
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
