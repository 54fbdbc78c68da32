/**
 * Digit strings spoken digit by digit ("five five five one two three four", "oh" = 0,
 * "double five") or typed on the keypad, and their read-back in groups.
 */
import { DIGIT_WORDS } from './numbers.js';
import { words } from './normalize.js';

const DIGIT_OF = new Map<string, string>([...DIGIT_WORDS.map((w, i) => [w, String(i)] as const), ['oh', '0'], ['o', '0']]);
const REPEAT = new Map([['double', 2], ['triple', 3]]);
/** Words callers wrap numbers in; anything else means this is not a digit string. */
const FILLER = new Set(['my', 'number', 'is', 'it', 'the', 'phone', 'its', 'uh', 'um', 'dash', 'and', 'area', 'code', 'yes', 'no', 'use', 'make', 'should', 'be', 'try', 'a', 'different', 'one']);

/** Words an open-vocabulary recogniser writes for a digit it heard ("two" -> "to"); only inside a run. */
const HOMOPHONE_OF = new Map<string, string>([['to', '2'], ['too', '2'], ['for', '4'], ['won', '1'], ['ate', '8']]);

/**
 * The digits in a spoken or written digit string, or null if it holds none. Written digits
 * ("555-1234") pass through. Carrier words may come before the first digit and after the last
 * ("you can reach me at ... thanks"); between digits only fillers ("dash", "uh") and digit
 * homophones may appear, so "book two at three" is not a number.
 */
export function parseDigitString(text: string): string | null {
  const tokens = words(text);
  const isDigit = (t: string) => DIGIT_OF.has(t) || REPEAT.has(t) || /^\d+$/.test(t);
  const first = tokens.findIndex(isDigit);
  if (first < 0) return null;
  let last = tokens.length - 1;
  while (last > first && (!isDigit(tokens[last]!) || REPEAT.has(tokens[last]!))) last--;
  let out = '';
  let repeat = 1;
  for (const token of tokens.slice(first, last + 1)) {
    const rep = REPEAT.get(token);
    if (rep !== undefined) {
      repeat = rep;
      continue;
    }
    const digit = DIGIT_OF.get(token) ?? HOMOPHONE_OF.get(token) ?? (/^\d+$/.test(token) ? token : undefined);
    if (digit !== undefined) {
      out += digit.length === 1 ? digit.repeat(repeat) : digit;
      repeat = 1;
      continue;
    }
    if (!FILLER.has(token)) return null;
  }
  return out === '' ? null : out;
}

/**
 * Keypad entry: `*` restarts the entry (only what follows the last `*` counts), `#` ends it.
 * Returns the digits entered, possibly empty.
 */
export function parseKeypadEntry(keys: string): string {
  const afterRestart = keys.slice(keys.lastIndexOf('*') + 1);
  const end = afterRestart.indexOf('#');
  return (end >= 0 ? afterRestart.slice(0, end) : afterRestart).replace(/\D/g, '');
}

/** Groups a phone number the way people read it: 3-3-4, 3-4, 1-3-3-4, otherwise threes. */
export function groupDigits(digits: string): string[] {
  const n = digits.length;
  const sizes =
    n === 10 ? [3, 3, 4] : n === 7 ? [3, 4] : n === 11 ? [1, 3, 3, 4] : n === 12 ? [2, 3, 3, 4] : fallbackSizes(n);
  const groups: string[] = [];
  let at = 0;
  for (const size of sizes) {
    groups.push(digits.slice(at, at + size));
    at += size;
  }
  return groups;
}

function fallbackSizes(n: number): number[] {
  const sizes: number[] = [];
  let left = n;
  while (left > 4) {
    sizes.push(3);
    left -= 3;
  }
  if (left > 0) sizes.push(left);
  return sizes;
}

/** "5551234567" → "five five five, one two three, four five six seven". */
export function formatDigitsForSpeech(digits: string): string {
  return groupDigits(digits)
    .map((g) => [...g].map((d) => DIGIT_WORDS[Number(d)]).join(' '))
    .join(', ');
}

/** The national number for a caller ID: "+15551234567" → "5551234567" (NANP), else digits. */
export function callerIdDigits(from: string): string | null {
  const digits = from.replace(/\D/g, '');
  if (digits.length < 7 || digits.length > 15) return null;
  return digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
}
