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

interface Rule {
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

function rules(config: RedactionConfig): Rule[] {
  const out: Rule[] = [];
  if (config.emails) out.push({ label: '[email]', pattern: /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g });
  if (config.cardNumbers) {
    // Any 13–19 digit run, Luhn-valid or not: a misheard card number is still a card number.
    out.push(
      { label: '[card]', pattern: /(?<!\w)\d(?:[ -]?\d){12,18}\b/g },
      {
        label: '[card]',
        pattern: new RegExp(`\\b${DIGIT_WORD}(?:[\\s,.-]+${DIGIT_WORD}){11,}\\b`, 'gi'),
        accept: (m) => spokenDigitCount(m) >= 13,
      },
    );
  }
  if (config.datesOfBirth) {
    out.push(
      { label: '[dob]', pattern: /\b\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}\b/g },
      { label: '[dob]', pattern: new RegExp(`(?<!\\[)\\b(?:born(?: on)?|date of birth(?: is)?|dob)\\b[^.;\\n]{1,40}`, 'gi') },
      { label: '[dob]', pattern: new RegExp(`\\b${MONTH}\\.? \\d{1,2}(?:st|nd|rd|th)?,? (?:19|20)\\d{2}\\b`, 'gi') },
    );
  }
  if (config.phoneNumbers) {
    out.push(
      { label: '[phone]', pattern: /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d(?:[ .-]?\d){6,14}\b/g, accept: (m) => digitCount(m) >= 7 && !ISO_DATE.test(m.trim()) },
      {
        label: '[phone]',
        pattern: new RegExp(`\\b${DIGIT_WORD}(?:[\\s,.-]+${DIGIT_WORD}){5,}\\b`, 'gi'),
        accept: (m) => spokenDigitCount(m) >= 7,
      },
    );
  }
  for (const source of config.custom) out.push({ label: '[redacted]', pattern: new RegExp(source, 'g') });
  return out;
}

export type Redactor = (text: string) => string;

export function createRedactor(config: RedactionConfig): Redactor {
  const active = rules(config);
  if (active.length === 0) return (text) => text;
  return (text) => {
    let out = text;
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
