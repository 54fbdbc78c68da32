/**
 * A small deterministic intent scorer over free text: the config's examples and keywords plus the
 * built-in cues (synonyms.ts), each phrase found in the caller's words adding its weight. Words are
 * compared by their Porter stem, so "cancelling", "cancelled" and "cancel" are one cue and a config
 * keyword covers its inflections. The ranking with its margin tells the flow whether to act, ask
 * ("Did you want to …?") or reprompt.
 */
import { stemmer } from 'stemmer';
import type { IntentConfig } from '../../config/dialog-schema.js';
import { words } from '../slots/normalize.js';
import { builtInCues, type Cue } from './synonyms.js';

export interface IntentScore {
  intent: IntentConfig;
  score: number;
}

/** Weight of a config keyword: the operator wrote it for this intent, so it counts as outright. */
const KEYWORD_WEIGHT = 3;
/** Bonus when the whole utterance is one of the config's examples. */
const EXAMPLE_BONUS = 5;
/** Bonus when an example occurs inside a longer utterance. */
const EXAMPLE_INSIDE_BONUS = 2;

/**
 * Nouns for the appointment itself keep their own form: "cancel my booking" must not also count as
 * the verb "book" (Porter maps both to "book").
 */
const KEEP = new Map([['booking', 'booking'], ['bookings', 'booking']]);
const stem = (w: string) => KEEP.get(w) ?? stemmer(w);

/**
 * A leave-taking closes what the caller says ("thanks, bye"): a goodbye cue counts only when it ends
 * within this many words of the end. Early in a longer request it is more likely a misheard
 * greeting ("hi, I was hoping to …" decoded as "bye i was hoping to …").
 */
const CLOSING_WINDOW = 3;

function phraseAt(tokens: readonly string[], phrase: readonly string[], from = 0): boolean {
  outer: for (let i = from; i + phrase.length <= tokens.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (tokens[i + j] !== phrase[j]) continue outer;
    return true;
  }
  return false;
}

export class IntentScorer {
  private readonly table: Array<{ intent: IntentConfig; cues: Array<readonly [string[], number]>; examples: string[][] }>;

  constructor(intents: readonly IntentConfig[]) {
    this.table = intents.map((intent) => {
      // Keyed by stemmed phrase: "move" and "moved" are one cue and count once.
      const cues = new Map<string, number>();
      const add = ([phrase, weight]: Cue) => {
        const key = phrase.split(' ').map(stem).join(' ');
        cues.set(key, Math.max(cues.get(key) ?? 0, weight));
      };
      builtInCues(intent).forEach(add);
      intent.keywords.forEach((k) => add([k, KEYWORD_WEIGHT]));
      return {
        intent,
        cues: [...cues].map(([phrase, weight]) => [phrase.split(' '), weight] as const),
        examples: intent.examples.map((e) => e.split(' ').map(stem)),
      };
    });
  }

  /** All intents with a positive score, best first (ties keep the config's order). */
  score(text: string): IntentScore[] {
    const tokens = words(text).map(stem);
    if (tokens.length === 0) return [];
    const joined = tokens.join(' ');
    const out: IntentScore[] = [];
    for (const { intent, cues, examples } of this.table) {
      let score = 0;
      const closing = intent.action === 'goodbye';
      for (const [phrase, weight] of cues) {
        const from = closing ? Math.max(0, tokens.length - CLOSING_WINDOW - phrase.length + 1) : 0;
        if (phraseAt(tokens, phrase, from)) score += weight;
      }
      for (const example of examples) {
        if (example.join(' ') === joined) score += EXAMPLE_BONUS;
        else if (example.length > 1 && phraseAt(tokens, example)) score += EXAMPLE_INSIDE_BONUS;
      }
      if (score > 0) out.push({ intent, score });
    }
    return out.sort((a, b) => b.score - a.score);
  }

  /** The best intent and how far ahead of the runner-up it is. */
  best(text: string): { intent: IntentConfig; score: number; margin: number } | null {
    const [first, second] = this.score(text);
    if (!first) return null;
    return { intent: first.intent, score: first.score, margin: first.score - (second?.score ?? 0) };
  }
}
