/**
 * Caller names recognised from a closed list: an offline grammar cannot spell an unknown name, so
 * the list (built-in, extendable in config) is the vocabulary.
 */
import { words } from './normalize.js';

export const BUILT_IN_FIRST_NAMES: readonly string[] = [
  'aaron', 'adam', 'alex', 'alice', 'amanda', 'amy', 'andrew', 'angela', 'anna', 'anthony', 'ashley', 'barbara',
  'ben', 'betty', 'brian', 'carol', 'charles', 'chris', 'christopher', 'daniel', 'david', 'deborah', 'dennis',
  'donald', 'donna', 'dorothy', 'edward', 'elizabeth', 'emily', 'emma', 'eric', 'frank', 'gary', 'george',
  'grace', 'helen', 'henry', 'jack', 'james', 'jane', 'jason', 'jeffrey', 'jennifer', 'jessica', 'john',
  'jonathan', 'joseph', 'joshua', 'karen', 'kevin', 'kimberly', 'laura', 'linda', 'lisa', 'maria', 'mark',
  'mary', 'matthew', 'melissa', 'michael', 'michelle', 'nancy', 'nicole', 'olivia', 'patricia', 'paul',
  'peter', 'rachel', 'rebecca', 'richard', 'robert', 'ronald', 'ryan', 'sam', 'sandra', 'sarah', 'scott',
  'sharon', 'sophia', 'stephen', 'steven', 'susan', 'thomas', 'timothy', 'william',
];

/** Builds a parser over a name list; returns "Mary Jane" style capitalised names. */
export function nameParser(names: readonly string[]): (text: string) => string | null {
  const known = new Set(names.map((n) => n.toLowerCase()));
  const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);
  return (text) => {
    const t = words(text);
    const i = t.findIndex((w) => known.has(w));
    if (i < 0) return null;
    const next = t[i + 1];
    return next !== undefined && known.has(next) ? `${cap(t[i]!)} ${cap(next)}` : cap(t[i]!);
  };
}
