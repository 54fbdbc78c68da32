/**
 * PII redaction for what we store and log: card numbers, phone numbers (as digits or as spoken digit
 * words, which is what a recogniser returns), dates of birth, e-mail addresses and custom patterns
 * from the agent config. Pure string → string; `redactDeep` walks records and log objects.
 */
export interface RedactionConfig {
  cardNumbers: boolean;
  phoneNumbers: boolean;
  datesOfBirth: boolean;
  emails: boolean;
  custom: readonly string[];
}

const DIGIT_WORD = '(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine|double|triple)';
const MONTH = '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';

export interface Rule {
  label: string;
  pattern: RegExp;
  /** Extra check on the match (e.g. digit count), when a regex alone is too loose. */
  accept?: (match: string) => boolean;
}

/** Appointment dates in tool arguments are not phone numbers. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const digitCount = (s: string) => s.replace(/\D/g, '').length;
const spokenDigitCount = (s: string) =>
  (s.toLowerCase().match(new RegExp(`\\b${DIGIT_WORD}\\b`, 'g')) ?? []).reduce(
    (n, w) => n + (w === 'double' ? 1 : w === 'triple' ? 2 : 1),
    0,
  );

/**
 * Every rule is linear in its input: quantifiers are bounded and every unbounded-looking run starts
 * behind a lookbehind that fails fast inside a run, so no attacker-controlled string (a URL, a
 * caller ID, a parameter name) can make one log line cost more than a scan. The unit test feeds each
 * rule 1 MB adversarial strings. Custom patterns come from the operator's agent config and are
 * trusted like the rest of it.
 */
export function redactionRules(config: RedactionConfig): Rule[] {
  const out: Rule[] = [];
  // RFC 5321 limits: local part ≤ 64, labels ≤ 63. The lookbehind keeps a long word from being
  // retried at every one of its characters.
  if (config.emails) out.push({ label: '[email]', pattern: /(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}/g });
  if (config.cardNumbers) {
    // Any 13–19 digit run, Luhn-valid or not: a misheard card number is still a card number.
    out.push(
      { label: '[card]', pattern: /(?<!\w)\d(?:[ -]?\d){12,18}\b/g },
      {
        label: '[card]',
        pattern: new RegExp(`(?<![a-z])${DIGIT_WORD}(?:[\\s,.-]{1,4}${DIGIT_WORD}){11,24}\\b`, 'gi'),
        accept: (m) => spokenDigitCount(m) >= 13,
      },
    );
  }
  if (config.datesOfBirth) {
    out.push(
      { label: '[dob]', pattern: /(?<!\d)\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}\b/g },
      { label: '[dob]', pattern: new RegExp(`(?<![\\[a-z])(?:born(?: on)?|date of birth(?: is)?|dob)\\b[^.;\\n]{1,40}`, 'gi') },
      { label: '[dob]', pattern: new RegExp(`(?<![a-z])${MONTH}\\.? \\d{1,2}(?:st|nd|rd|th)?,? (?:19|20)\\d{2}\\b`, 'gi') },
    );
  }
  if (config.phoneNumbers) {
    out.push(
      { label: '[phone]', pattern: /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d(?:[ .-]?\d){6,14}\b/g, accept: (m) => digitCount(m) >= 7 && !ISO_DATE.test(m.trim()) },
      {
        label: '[phone]',
        pattern: new RegExp(`(?<![a-z])${DIGIT_WORD}(?:[\\s,.-]{1,4}${DIGIT_WORD}){5,20}\\b`, 'gi'),
        accept: (m) => spokenDigitCount(m) >= 7,
      },
    );
  }
  for (const source of config.custom) out.push({ label: '[redacted]', pattern: new RegExp(source, 'g') });
  return out;
}

export type Redactor = (text: string) => string;

/**
 * Longest string redacted as a whole. Nothing the agent stores or logs is legitimately longer (a
 * caller turn is a sentence, a log string is cut at 512); a longer one keeps its first part,
 * minus any digits or address characters hanging at the cut, so a number split there cannot leak.
 */
export const MAX_REDACTED_CHARS = 8 * 1024;

function cut(text: string): string {
  if (text.length <= MAX_REDACTED_CHARS) return text;
  const head = text.slice(0, MAX_REDACTED_CHARS - 64);
  const tail = text.slice(MAX_REDACTED_CHARS - 64, MAX_REDACTED_CHARS).replace(/[\w@.+()\s,-]+$/, '');
  return `${head}${tail}…[+${text.length - head.length - tail.length}]`;
}

export function createRedactor(config: RedactionConfig): Redactor {
  const active = redactionRules(config);
  if (active.length === 0) return cut;
  return (text) => {
    let out = cut(text);
    for (const rule of active) {
      rule.pattern.lastIndex = 0;
      out = out.replace(rule.pattern, (match) => (rule.accept && !rule.accept(match) ? match : rule.label));
    }
    return out;
  };
}

/** What the caller said or gave: the parts of a call record that can hold personal data. */
export function redactCallRecord<T extends { turns: unknown; toolCalls: unknown; slots: unknown }>(record: T, redact: Redactor): T {
  return {
    ...record,
    turns: redactDeep(record.turns, redact),
    toolCalls: redactDeep(record.toolCalls, redact),
    slots: redactDeep(record.slots, redact),
  };
}

/**
 * A copy of `value` with every string redacted (keys kept). Only plain objects and arrays are
 * walked: class instances (requests, sockets, errors) are left to their serializers, and cycles stop.
 */
export function redactDeep<T>(value: T, redact: Redactor, seen = new WeakSet<object>()): T {
  if (typeof value === 'string') return redact(value) as T;
  if (value === null || typeof value !== 'object' || seen.has(value)) return value;
  if (Array.isArray(value)) {
    seen.add(value);
    return value.map((v) => redactDeep(v, redact, seen)) as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  seen.add(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, redact, seen);
  return out as T;
}
