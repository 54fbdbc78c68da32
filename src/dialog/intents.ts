/**
 * Deterministic intent matching from the config's examples and keywords, and keypad keys → intents.
 * An exact example wins; otherwise the intent whose keywords cover the most words wins, ties going
 * to the intent listed first in the config (so the file's order is the tie-break people can see).
 */
import type { IntentConfig } from '../config/dialog-schema.js';
import { containsPhrase, normalizeUtterance } from './slots/normalize.js';

export interface MatchOptions {
  /** Only intents with `global: true` (slot-filling steps). */
  globalOnly?: boolean;
}

export function matchIntent(text: string, intents: readonly IntentConfig[], options: MatchOptions = {}): IntentConfig | null {
  const normalized = normalizeUtterance(text);
  if (normalized === '') return null;
  const tokens = normalized.split(' ');
  let best: IntentConfig | null = null;
  let bestScore = 0;
  for (const intent of intents) {
    if (options.globalOnly && !intent.global) continue;
    let score = intent.examples.includes(normalized) ? 1000 : 0;
    for (const keyword of intent.keywords) {
      const phrase = keyword.split(' ');
      if (containsPhrase(tokens, phrase)) score += phrase.length * 10;
    }
    if (score > bestScore) {
      best = intent;
      bestScore = score;
    }
  }
  return best;
}

/** The intent bound to a keypad key (first key of the entry), if any. */
export function intentForKey(digits: string, intents: readonly IntentConfig[], options: MatchOptions = {}): IntentConfig | null {
  const key = digits.replace(/#/g, '').charAt(0);
  if (key === '') return null;
  return intents.find((i) => i.dtmf === key && (!options.globalOnly || i.global)) ?? null;
}
