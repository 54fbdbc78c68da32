/** Number words ↔ numbers, for spoken times, dates and digit strings. */

export const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] as const;
const TEENS = ['ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const ORDINAL_UNITS = ['', 'first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth'];
const ORDINAL_TEENS = ['tenth', 'eleventh', 'twelfth', 'thirteenth', 'fourteenth', 'fifteenth', 'sixteenth', 'seventeenth', 'eighteenth', 'nineteenth'];
const ORDINAL_TENS = ['', '', 'twentieth', 'thirtieth'];

/** 0..9999 as words: 42 → "forty two", 105 → "one hundred five". */
export function numberToWords(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 9999) throw new RangeError(`numberToWords: ${n}`);
  if (n < 10) return DIGIT_WORDS[n]!;
  if (n < 20) return TEENS[n - 10]!;
  if (n < 100) return n % 10 === 0 ? TENS[n / 10]! : `${TENS[Math.floor(n / 10)]} ${DIGIT_WORDS[n % 10]}`;
  if (n < 1000) {
    const rest = n % 100;
    return `${DIGIT_WORDS[Math.floor(n / 100)]} hundred${rest ? ` ${numberToWords(rest)}` : ''}`;
  }
  const rest = n % 1000;
  return `${numberToWords(Math.floor(n / 1000))} thousand${rest ? ` ${numberToWords(rest)}` : ''}`;
}

/** 1..31 as an ordinal: 3 → "third", 24 → "twenty fourth". */
export function ordinalToWords(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 39) throw new RangeError(`ordinalToWords: ${n}`);
  if (n < 10) return ORDINAL_UNITS[n]!;
  if (n < 20) return ORDINAL_TEENS[n - 10]!;
  return n % 10 === 0 ? ORDINAL_TENS[n / 10]! : `${TENS[Math.floor(n / 10)]} ${ORDINAL_UNITS[n % 10]}`;
}

const CARDINALS = new Map<string, number>();
DIGIT_WORDS.forEach((w, i) => CARDINALS.set(w, i));
TEENS.forEach((w, i) => CARDINALS.set(w, i + 10));
TENS.forEach((w, i) => w && CARDINALS.set(w, i * 10));
const ORDINALS = new Map<string, number>();
ORDINAL_UNITS.forEach((w, i) => w && ORDINALS.set(w, i));
ORDINAL_TEENS.forEach((w, i) => ORDINALS.set(w, i + 10));
ORDINAL_TENS.forEach((w, i) => w && ORDINALS.set(w, i * 10));

export interface ParsedNumber {
  value: number;
  /** Tokens consumed from the start position. */
  length: number;
}

/**
 * A cardinal 0..99 at `tokens[i]`: "seven", "twenty", "forty five", or digits "45".
 * Greedy: "twenty five" is one number, not two.
 */
export function readCardinal(tokens: readonly string[], i: number): ParsedNumber | null {
  const t = tokens[i];
  if (t === undefined) return null;
  if (/^\d{1,2}$/.test(t)) return { value: Number(t), length: 1 };
  const v = CARDINALS.get(t);
  if (v === undefined) return null;
  if (v >= 20 && v % 10 === 0) {
    const unit = CARDINALS.get(tokens[i + 1] ?? '');
    if (unit !== undefined && unit >= 1 && unit <= 9) return { value: v + unit, length: 2 };
  }
  return { value: v, length: 1 };
}

/** An ordinal 1..31 at `tokens[i]`: "third", "twenty fourth", "24th", "24". */
export function readOrdinal(tokens: readonly string[], i: number, allowBareDigits = false): ParsedNumber | null {
  const t = tokens[i];
  if (t === undefined) return null;
  const digits = /^(\d{1,2})(st|nd|rd|th)$/.exec(t) ?? (allowBareDigits ? /^(\d{1,2})$/.exec(t) : null);
  if (digits) return { value: Number(digits[1]), length: 1 };
  const direct = ORDINALS.get(t);
  if (direct !== undefined) return { value: direct, length: 1 };
  const tens = CARDINALS.get(t);
  if (tens !== undefined && tens >= 20 && tens % 10 === 0) {
    const unit = ORDINALS.get(tokens[i + 1] ?? '');
    if (unit !== undefined && unit >= 1 && unit <= 9) return { value: tens + unit, length: 2 };
  }
  return null;
}

/** Every ordinal 1..31 as words, for grammars. */
export function dayOrdinalWords(): string[] {
  return Array.from({ length: 31 }, (_, i) => ordinalToWords(i + 1));
}
