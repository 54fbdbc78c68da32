/**
 * What the caller said while the agent was talking, and whether it should stop the agent.
 *
 * - `none`: no words at all (a cough, a click, line noise, the agent's own echo): a false interruption.
 * - `backchannel`: only listener sounds ("okay", "uh huh", "right", "yeah", "mm hmm"): the caller is
 *   following along, the agent keeps talking.
 * - `barge-in`: anything more ("no", "wait", a question, a new request): the caller takes the turn.
 *
 * "No" is never a backchannel: it disagrees with what is being said. "Yeah but…" has content words
 * after the listener sound, so it is a barge-in too.
 */
import { words } from '../slots/normalize.js';

export type Interjection = 'none' | 'backchannel' | 'barge-in';

/** Listener sounds, one or two words each; a backchannel is one or more of them and nothing else. */
export const DEFAULT_BACKCHANNELS: readonly string[] = [
  'okay', 'ok', 'uh huh', 'mm hmm', 'mhm', 'mm', 'hmm', 'um hum', 'uh hum', 'right', 'alright', 'all right', 'yeah',
  'yes', 'yep', 'yup', 'sure', 'i see', 'got it', 'great', 'good', 'cool', 'fine', 'perfect', 'oh', 'ah', 'aha',
  'uh', 'um', 'oh okay', 'thanks', 'thank you',
];

/** Words recognisers emit for non-speech (pocketsphinx fillers, cloud "[noise]" tags). */
const NON_WORDS = new Set(['sil', 'noise', 'cough', 'breath', 'laugh', 'music', 'inaudible', 'um', 'uh']);

export function classifyInterjection(text: string, backchannels: readonly string[] = DEFAULT_BACKCHANNELS): Interjection {
  const tokens = words(text.replace(/\[[^\]]*\]|<[^>]*>|\+\+?[a-z]+\+\+?/gi, ' '));
  if (tokens.every((t) => NON_WORDS.has(t))) return tokens.length === 0 ? 'none' : 'backchannel';
  const phrases = backchannels.map((p) => words(p)).filter((p) => p.length > 0).sort((a, b) => b.length - a.length);
  let i = 0;
  while (i < tokens.length) {
    const match = phrases.find((p) => p.every((w, k) => tokens[i + k] === w));
    if (!match) return 'barge-in';
    i += match.length;
  }
  return 'backchannel';
}

/**
 * Short ways of taking the floor ("wait", "no", "hold on", "sorry?"): as short as a listener sound,
 * so a grammar without them would hear the nearest listener sound and play on over the caller.
 */
const INTERRUPTERS = ['wait', 'no', 'no wait', 'stop', 'hold on', 'hang on', 'sorry', 'excuse me', 'what', 'pardon', 'actually', 'wait a minute', 'one moment'];

/** Words that take the floor whatever surrounds them: a recogniser that heard one heard an interruption. */
const FLOOR_WORDS = new Set(['no', 'nope', 'not', 'wait', 'stop', 'hold', 'hang', 'sorry', 'excuse', 'what', 'pardon', 'actually', 'but']);

/**
 * One utterance as heard by several recognition passes (offline: a grammar that must return one of
 * its phrases, and an open-vocabulary pass). A forced-choice grammar can turn "mm hmm" into a step
 * answer, an open pass can turn it into "i'm home": if any pass heard only a listener sound (or no
 * words) and none heard a floor-taking word ("no", "wait", "sorry"), it is not an interruption.
 */
export function classifyHeard(texts: readonly string[], backchannels: readonly string[] = DEFAULT_BACKCHANNELS): Interjection {
  const kinds = texts.map((t) => classifyInterjection(t, backchannels));
  if (kinds.length === 0) return 'none';
  if (texts.length > 1 && texts.some((t) => words(t).some((w) => FLOOR_WORDS.has(w)))) return 'barge-in';
  const kind = kinds[0] !== 'barge-in' ? kinds[0]! : (kinds.find((k) => k !== 'barge-in') ?? 'barge-in');
  // Two passes over the same audio that share no word did not hear words, they fitted some to a
  // sound: a hummed "mm hmm" came back as "open monday two monday" from the grammar and "um um agent
  // um" from the open pass. Short words that take the floor are caught above; longer speech by the
  // segmenter's `speech-long`; so what is left here is a sound, not an interruption.
  if (kind === 'barge-in' && texts.length > 1 && !shareAWord(texts)) return 'none';
  return kind;
}

/** Whether every pass heard at least one of the same (non-filler) words. */
function shareAWord(texts: readonly string[]): boolean {
  const sets = texts.map((t) => new Set(words(t).filter((w) => !NON_WORDS.has(w))));
  return [...sets[0]!].some((w) => sets.every((s) => s.has(w)));
}

/** Unfinished lead-ins a caller pauses after; in the grammar so a pause decode can report them as such. */
const UNFINISHED = ['i would like to', 'i would like', 'i want to', 'i need to', 'i want', 'i need', 'can i', 'could i', 'my number is', 'my name is', 'the number is', 'it is', 'so', 'well', 'um', 'uh'];

/**
 * A grammar recogniser can only return phrases of its grammar, so a listener sound over the agent
 * would come back as the nearest step answer ("okay" → "open eight"), and a caller pausing after
 * "I would like to…" as some whole answer. Adding listener sounds and bare lead-ins as alternatives
 * lets it say what it heard (and short interrupters, so "wait" is not heard as "okay"). No optional trailing "and"/"um"/"uh" after a step answer: the decoder
 * fits those to the line noise after a finished answer ("goodbye uh", "can i hang up and" for "hi, I
 * need to cancel my appointment please"), which reads as a hesitation, holds the turn open and can
 * win over the open-vocabulary pass. Grammar words must be plain dictionary
 * words; configured phrases that are not are left out rather than break the grammar.
 */
export function withBackchannels(jsgf: string, backchannels: readonly string[] = DEFAULT_BACKCHANNELS): string {
  const phrases = [...new Set(backchannels.map((p) => p.trim().toLowerCase()))].filter((p) => /^[a-z]+( [a-z]+)*$/.test(p));
  const publicRule = /^public <(\w+)> = (.*);$/m;
  const match = publicRule.exec(jsgf);
  if (!match || phrases.length === 0 || jsgf.includes('<listener_sound>')) return jsgf;
  const body = `($2) | <listener_sound> | <unfinished> | <interruption>`;
  const rules = [`<listener_sound> = (${phrases.join(' | ')});`, `<unfinished> = (${UNFINISHED.join(' | ')});`, `<interruption> = (${INTERRUPTERS.join(' | ')});`];
  return `${jsgf.replace(publicRule, `public <$1> = ${body};`).trimEnd()}\n${rules.join('\n')}\n`;
}
