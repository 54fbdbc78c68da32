/**
 * What a caller's utterance means in the current step, from both recognition passes: act on an
 * intent, ask about it first ("Did you want to cancel an appointment?"), hand the text to the
 * step's answer parser, or nothing (reprompt). Pure: the flow decides, this only reads.
 *
 * Rules, in order of what could go wrong:
 * - An action that cannot be taken back within the call (a transfer, hanging up) is taken at once
 *   only in a menu and only when both passes heard the very same words; otherwise the caller is
 *   asked first ("Did you want to talk to a person?"). Dropping what has been collected (start over
 *   mid-task) needs both passes to name it.
 * - Leaving a half-finished task for another one is always asked first.
 * - A yes/no the two passes disagree on is no answer at all.
 * - Text the grammar forced onto the audio (the open pass fits much better) is not parsed.
 */
import type { IntentConfig, StepName } from '../../config/dialog-schema.js';
import type { Recognition } from '../../speech/stt.js';
import { parseYesNo } from '../slots/yes-no.js';
import type { IntentScorer } from './intent-scorer.js';

export type Understanding =
  | { kind: 'act'; intent: IntentConfig; text: string }
  | { kind: 'clarify'; intent: IntentConfig; text: string }
  | { kind: 'answer'; text: string }
  | { kind: 'none' };

export interface UnderstandInput {
  step: StepName;
  /** The task in progress (book, reschedule, cancel), if any. */
  task: string | null;
  /** The transcript (the chosen pass's text). */
  text: string;
  recognition?: Recognition | undefined;
  /** Whether `text` answers the current step (a slot value, yes/no, a pick). */
  answers: (text: string) => boolean;
  /** The slot value `text` gives in the current step, in words ("David Jordan"), if the step has one. */
  value?: ((text: string) => string | null) | undefined;
}

export interface Thresholds {
  actScore: number;
  clarifyScore: number;
}

const MENU_STEPS: ReadonlySet<StepName> = new Set<StepName>(['menu', 'anythingElse']);
const YES_NO_STEPS: ReadonlySet<StepName> = new Set<StepName>(['confirm', 'phoneChoice', 'clarify', 'anythingElse', 'pickBooking']);
/** Needs both passes to agree, or the caller's yes. */
const IRREVERSIBLE = new Set(['transfer', 'goodbye']);

/** The two offline passes as understanding reads them: the believed text and the other one. */
interface Passes {
  believed: string;
  /** The pass not believed (null: only one pass, e.g. a cloud recogniser). */
  other: string | null;
  grammarText: string;
  openChosen: boolean;
}

function readPasses(input: UnderstandInput): Passes {
  const rec = input.recognition;
  const openChosen = rec?.chosen === 'open' && !!rec.open?.text;
  const grammarText = rec?.grammar?.text ?? input.text;
  const believed = openChosen ? rec!.open!.text : input.text;
  const other = rec?.open ? (openChosen ? grammarText : rec.open.text) : null;
  return { believed, other, grammarText, openChosen };
}

/** At a yes/no question, passes that disagree (or a committing yes only one pass heard) mean nothing. */
function yesNoInDoubt(input: UnderstandInput, { believed, other }: Passes): boolean {
  if (other === null || !YES_NO_STEPS.has(input.step)) return false;
  const a = parseYesNo(believed);
  const b = parseYesNo(other);
  if (a && b && a !== b) return true;
  // A yes that commits something (the booking or cancellation read back, the action asked about)
  // needs both passes to hear it: a grammar of yes-words turns anything into one, even audio it
  // fits well ("no, do not cancel it" came back as "oh okay yup please"). A miss costs one
  // "please say yes or no"; a wrong yes costs the caller's appointment.
  return IRREVERSIBLE_ANSWER_STEPS.has(input.step) && a === 'yes' && b !== 'yes';
}

type ScoredIntent = NonNullable<ReturnType<IntentScorer['best']>>;

/** What the scorer made of both passes, and the facts the decisions below turn on. */
interface Judged {
  best: ScoredIntent | null;
  otherBest: ScoredIntent | null;
  /** Both passes point at the same intent (or there is only one pass). */
  agree: boolean;
  inMenu: boolean;
  /** The believed words answer the step's question. */
  answered: boolean;
  midTask: boolean;
  /** Two different searches returning identical words is the strongest evidence we have. */
  sameWords: boolean;
}

export function understand(input: UnderstandInput, scorer: IntentScorer, t: Thresholds): Understanding {
  const passes = readPasses(input);
  if (passes.believed === '') return { kind: 'none' };
  if (yesNoInDoubt(input, passes)) return { kind: 'none' };
  const best = scorer.best(passes.believed);
  const otherBest = passes.other !== null ? scorer.best(passes.other) : null;
  const inMenu = MENU_STEPS.has(input.step);
  const judged: Judged = {
    best,
    otherBest,
    agree: passes.other === null || (best !== null && otherBest?.intent.id === best.intent.id),
    inMenu,
    answered: input.answers(passes.believed),
    midTask: input.task !== null && !inMenu,
    sameWords: passes.other === null || passes.other === passes.believed,
  };
  const strong = best !== null && best.score >= t.actScore && best.margin >= 1;
  return (strong && onStrongIntent(input, passes, judged, t)) || withoutClearIntent(input, passes, judged, t);
}

/** The believed pass asks clearly for something: act, answer, or ask first; null to decide as if it did not. */
function onStrongIntent(input: UnderstandInput, { believed, other, openChosen }: Passes, j: Judged, t: Thresholds): Understanding | null {
  const best = j.best!;
  const action = best.intent.action;
  const irreversible = IRREVERSIBLE.has(action) || (action === 'start-over' && j.midTask);
  if (j.inMenu) {
    // "no that is all" at "anything else?" is an answer and a goodbye at once: same outcome. A
    // goodbye there is what the question invites, so the believed grammar pass is enough when the
    // open pass asks for nothing else clearly (on a noisy line the two rarely agree word for word).
    const expectedGoodbye = action === 'goodbye' && input.step === 'anythingElse' && !openChosen && !(j.otherBest && j.otherBest.score >= t.actScore);
    const sure = IRREVERSIBLE.has(action) ? j.sameWords || expectedGoodbye : j.agree || (!irreversible && best.score >= t.actScore + 2 && best.margin >= 2);
    if (sure) return { kind: 'act', intent: best.intent, text: believed };
    // Not sure, so a question follows. When the grammar pass is believed, ask about what the open
    // pass heard if its request is clearer: a forced menu grammar path often carries one stray menu
    // word ("book" for "talk") where the open pass heard the whole request ("talk to the receptionist").
    const ask = !openChosen && j.otherBest && j.otherBest.score > best.score && j.otherBest.margin >= 1 ? { intent: j.otherBest.intent, text: other! } : { intent: best.intent, text: believed };
    return { kind: 'clarify', ...ask };
  }
  if (action === input.task && j.answered) return { kind: 'answer', text: believed };
  if (action === 'repeat' && !j.answered) return { kind: 'act', intent: best.intent, text: believed };
  if (j.answered && best.score < t.actScore + 2) return null;
  // Mid-task, a transfer or hang-up the offline recogniser heard is always confirmed first: one
  // short question is cheap ("correct" can come back as "human" from both passes).
  if (IRREVERSIBLE.has(action)) return { kind: other === null ? 'act' : 'clarify', intent: best.intent, text: believed };
  if (irreversible) return { kind: j.agree ? 'act' : 'clarify', intent: best.intent, text: believed };
  if (!best.intent.global) return { kind: 'clarify', intent: best.intent, text: believed };
  return { kind: 'act', intent: best.intent, text: believed };
}

/** No clear request in the believed pass: an answer, a question about what the other pass heard, or nothing. */
function withoutClearIntent(input: UnderstandInput, { believed, other, grammarText, openChosen }: Passes, j: Judged, t: Thresholds): Understanding {
  const { best, otherBest } = j;
  // The grammar heard an answer, but the open pass heard a clear request for something else ("I need
  // to cancel my appointment" forced into a date): ask, rather than fill a slot with it.
  const otherStrong = otherBest !== null && otherBest.score >= t.actScore && otherBest.margin >= 1;
  if (!j.inMenu && !openChosen && otherStrong && otherBest.intent.action !== input.task && (!best || best.score < otherBest.score)) {
    return { kind: 'clarify', intent: otherBest.intent, text: other! };
  }
  if (j.answered) return { kind: 'answer', text: narrowerAnswer(input, believed, other, openChosen) ?? believed };
  // The open pass was believed for its better fit, yet it neither asks for anything clearly nor
  // answers the question, while the grammar heard an answer: take that answer where a read-back
  // still follows before anything is committed, rather than reprompting or asking about a stray
  // word ("where" in "it hi where" for "it is Taylor").
  if (openChosen && !IRREVERSIBLE_ANSWER_STEPS.has(input.step) && !YES_NO_STEPS.has(input.step) && (!best || best.score < t.actScore) && input.answers(grammarText)) {
    return { kind: 'answer', text: grammarText };
  }
  if (best && best.score >= t.clarifyScore && best.margin > 0) return { kind: 'clarify', intent: best.intent, text: believed };
  // The grammar pass made no sense here; the open pass may have. Never act on it alone: a slot
  // value still gets its read-back, an intent gets a question. (Not the other way round: when the
  // open pass was believed, the grammar's text is what the audio was forced into.)
  if (other !== null && !openChosen) {
    if (input.answers(other) && !IRREVERSIBLE_ANSWER_STEPS.has(input.step)) return { kind: 'answer', text: other };
    if (otherBest && otherBest.score >= t.clarifyScore && otherBest.margin > 0) return { kind: 'clarify', intent: otherBest.intent, text: other };
  }
  return { kind: 'none' };
}

/**
 * The open pass's answer when it is a part of the believed grammar pass's ("Jordan" where the
 * grammar heard "David Jordan"): the grammar's optional second name is where carrier words a caller
 * said ("the name is …") get forced into, so the part both passes heard is the safer value.
 */
function narrowerAnswer(input: UnderstandInput, believed: string, other: string | null, openChosen: boolean): string | null {
  if (!input.value || other === null || openChosen) return null;
  const mine = input.value(believed)?.toLowerCase().split(' ');
  const theirs = input.value(other)?.toLowerCase().split(' ');
  if (!mine || !theirs || theirs.length >= mine.length) return null;
  return theirs.every((w) => mine.includes(w)) ? other : null;
}

/** Steps where an answer commits something (a yes books or cancels): the believed pass only. */
const IRREVERSIBLE_ANSWER_STEPS: ReadonlySet<StepName> = new Set<StepName>(['confirm', 'clarify']);
