/**
 * Caller text → the canonical lower-case word form the parsers and grammars share. Cloud
 * recognisers return "That's right, 3:30 p.m."; pocketsphinx returns "that is right three thirty p m".
 * Both must land on the same words so one parser serves both.
 */
const CONTRACTIONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bo'?clock\b/g, 'o clock'],
  [/\bcan't\b/g, 'can not'],
  [/\bwon't\b/g, 'will not'],
  [/\b(\w+)n't\b/g, '$1 not'],
  [/\b(that|it|what|there|here|name|number|who|he|she)'s\b/g, '$1 is'],
  [/\b(i|you|we|they)'d\b/g, '$1 would'],
  [/\bi'm\b/g, 'i am'],
  [/\b(\w+)'ll\b/g, '$1 will'],
  [/\b(\w+)'re\b/g, '$1 are'],
  [/\b(\w+)'ve\b/g, '$1 have'],
  [/\buh-huh\b/g, 'uh huh'],
  // "a.m." / "3pm" → "a m" / "3 p m" (the words pocketsphinx outputs); a bare "am" stays, it is a verb.
  [/\ba\.m\.?/g, 'a m'],
  [/\bp\.m\.?/g, 'p m'],
  [/(\d)\s*am\b/g, '$1 a m'],
  [/(\d)\s*pm\b/g, '$1 p m'],
];

export function normalizeUtterance(text: string): string {
  let t = text.toLowerCase();
  for (const [pattern, replacement] of CONTRACTIONS) t = t.replace(pattern, replacement);
  // Keep "3:30" and "24th" intact; every other punctuation mark is a word break.
  t = t.replace(/(\d):(\d)/g, '$1\u0000$2').replace(/[^a-z0-9\u0000\s]/g, ' ').replace(/\u0000/g, ':');
  return t.replace(/\s+/g, ' ').trim();
}

export function words(text: string): string[] {
  const n = normalizeUtterance(text);
  return n === '' ? [] : n.split(' ');
}

/** True when `phrase` (normalized words) occurs in `tokens` as whole consecutive words. */
export function containsPhrase(tokens: readonly string[], phrase: readonly string[]): boolean {
  return indexOfPhrase(tokens, phrase) >= 0;
}

export function indexOfPhrase(tokens: readonly string[], phrase: readonly string[], from = 0): number {
  if (phrase.length === 0) return -1;
  outer: for (let i = from; i + phrase.length <= tokens.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (tokens[i + j] !== phrase[j]) continue outer;
    return i;
  }
  return -1;
}
