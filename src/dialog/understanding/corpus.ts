/**
 * Text for the open-vocabulary language model: what callers of this agent plausibly say, built
 * from the agent config (intent examples and keywords, services, names) and the built-in cues,
 * wrapped in everyday carrier phrases, plus slot answers (days, times, digit strings, yes/no).
 * A list of general conversational words keeps off-topic speech hearable as such.
 */
import type { IntentConfig } from '../../config/dialog-schema.js';
import { MONTHS, WEEKDAYS } from '../slots/dates.js';
import { DIGIT_WORDS, dayOrdinalWords, numberToWords } from '../slots/numbers.js';
import { NO_PHRASES, YES_PHRASES } from '../slots/yes-no.js';
import { builtInCues } from './synonyms.js';

export interface CorpusInput {
  intents: readonly IntentConfig[];
  services: readonly string[];
  names: readonly string[];
}

const LEADS = ['', 'i want to', 'i would like to', 'i need to', 'can i', 'could i', 'can you', 'could you', 'um', 'uh', 'yeah', 'hi', 'hello', 'okay', 'actually', 'sorry', 'please', 'i was hoping to', 'i just want to', 'is it possible to'];
const TAILS = ['', 'please', 'thanks', 'thank you', 'for me', 'today', 'this week', 'next week'];
const SLOT_LEADS = ['', 'um', 'uh', 'it is', 'how about', 'maybe', 'let us say', 'i think', 'what about', 'on', 'at', 'around', 'i would say', 'okay'];
const SLOT_TAILS = ['', 'please', 'i think', 'if you have it', 'would be great', 'works for me', 'if possible', 'thanks'];

/**
 * Everyday words a caller may use that the domain text lacks. Kept short on purpose: each word
 * adds search effort, and a uniform share of probability is all they get.
 */
export const GENERAL_WORDS: readonly string[] = (
  'a about after again ago all also am an and any anyone anything are around as ask at away back bad be because been before being best better between bit both but by call called calling came can car care check child children clinic come could daughter day days did do doctor does doing done down each else end even ever every exactly family feel few find fine first for friend from get give go going good got great had has have having he hear help her here him his home hope how husband i if in insurance is it job just keep kind know last late let like little long look lot made make many may me mean mind mine minute moment more morning most mother much must my name need never new nice night no not now number of off office oh old on once one only or other our out over own pain part people phone pick place please pretty problem question quick quite rather really right said same say see she should sick since so some something soon sorry still such sure take talk tell than thank thanks that the their them then there these they thing things think this those though through time to told too try trying two up us use very wait want was wasn way we week well went were what when which while who why wife will with without work would wrong yeah year yes yet you your'
).split(' ');

function combos(leads: readonly string[], cores: readonly string[], tails: readonly string[]): string[] {
  const out: string[] = [];
  for (const core of cores) {
    for (const lead of leads) out.push(`${lead} ${core}`.trim());
    for (const tail of tails) out.push(`${core} ${tail}`.trim());
  }
  return out;
}

function slotAnswers(input: CorpusInput): string[] {
  const hours = Array.from({ length: 12 }, (_, i) => numberToWords(i + 1));
  const days = [...WEEKDAYS, ...WEEKDAYS.map((d) => `next ${d}`), ...WEEKDAYS.map((d) => `this ${d}`), 'today', 'tomorrow', 'the day after tomorrow'];
  const dates = [
    ...days,
    ...dayOrdinalWords().map((o) => `the ${o}`),
    ...MONTHS.flatMap((m) => dayOrdinalWords().filter((_, i) => i % 3 === 0).map((o) => `${m} ${o}`)),
    ...MONTHS.map((m) => `the third of ${m}`),
  ];
  const times = hours.flatMap((h) => [`${h} a m`, `${h} p m`, `${h} o clock`, `${h} thirty`, `half past ${h}`, `quarter past ${h}`, `quarter to ${h}`, `${h} in the morning`, `${h} in the afternoon`, `${h} fifteen`, `${h} forty five`]);
  const digitRuns: string[] = [];
  for (let i = 0; i < 40; i++) {
    const run = Array.from({ length: 10 }, (_, j) => DIGIT_WORDS[(i * 7 + j * (i % 9 + 1)) % 10]!);
    digitRuns.push(run.join(' '), `my number is ${run.join(' ')}`, `it is ${run.slice(0, 3).join(' ')} ${run.slice(3).join(' ')}`);
  }
  const names = input.names.flatMap((n) => [n, `my name is ${n}`, `it is ${n}`, `the name is ${n}`, `put it under ${n}`, `this is ${n}`]);
  const yesNo = [...YES_PHRASES, ...NO_PHRASES, 'yes please', 'no thanks', 'no thank you', 'yes that is right', 'no that is wrong', 'yes go ahead', 'no do not', 'yes that is fine'];
  const picks = ['the first one', 'the second one', 'the third one', 'the earliest', 'the last one', 'first', 'second'];
  return [...combos(SLOT_LEADS, [...dates, ...times, ...picks], SLOT_TAILS), ...digitRuns, ...names, ...combos(['', 'uh', 'um', 'oh'], yesNo, ['', 'please', 'thanks'])];
}

export function domainSentences(input: CorpusInput): string[] {
  const out: string[] = [];
  for (const intent of input.intents) {
    const cues = builtInCues(intent).map(([phrase]) => phrase);
    out.push(...intent.examples, ...intent.examples, ...combos(LEADS, [...intent.keywords, ...cues], TAILS));
  }
  out.push(...combos(LEADS, input.services.flatMap((s) => [`a ${s}`, `book a ${s}`, `do you do ${s}`, `do you offer ${s}`]), TAILS));
  out.push(...slotAnswers(input));
  return out.map((s) => s.replace(/\s+/g, ' ').trim()).filter(Boolean);
}
