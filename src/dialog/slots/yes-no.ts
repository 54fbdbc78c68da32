/** Yes/no answers, including the caller's everyday variants. */
import { containsPhrase, words } from './normalize.js';

export type YesNo = 'yes' | 'no';

/** Negative phrases are checked first: "that is not right" contains "right". */
export const NO_PHRASES = ['no', 'nope', 'nah', 'not', 'wrong', 'incorrect', 'negative', 'that is wrong'] as const;
export const YES_PHRASES = [
  'yes', 'yeah', 'yep', 'yup', 'yes please', 'correct', 'that is right', 'that is correct', 'right', 'sure',
  'okay', 'ok', 'absolutely', 'affirmative', 'uh huh', 'sounds good', 'perfect', 'exactly',
] as const;

/**
 * More everyday yeses, for parsing only: kept out of YES_PHRASES, which also feeds the open-vocabulary
 * language model, where each extra phrase thins out a plain "yes" (a short "yes" then came back as "the us").
 */
const MORE_YES = ['sounds great', 'fine', 'that works', 'go ahead', 'definitely', 'of course'];

export function parseYesNo(text: string): YesNo | null {
  const t = words(text);
  if (NO_PHRASES.some((p) => containsPhrase(t, p.split(' ')))) return 'no';
  if ([...YES_PHRASES, ...MORE_YES].some((p) => containsPhrase(t, p.split(' ')))) return 'yes';
  return null;
}
