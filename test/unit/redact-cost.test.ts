/**
 * Redaction cost: every log line passes through the redactor, including attacker-controlled
 * strings, so no input may make it superlinear. Each rule is fed adversarial strings (long runs of
 * what it matches, almost-matches, and separators); cost is a best-of-5 so a busy machine does not
 * decide the verdict.
 */
import { describe, expect, it } from 'vitest';
import { createRedactor, MAX_REDACTED_CHARS, redactionRules, type RedactionConfig } from '../../src/observability/redact.js';

const none: RedactionConfig = { cardNumbers: false, phoneNumbers: false, datesOfBirth: false, emails: false, custom: [] };
const categories = ['emails', 'cardNumbers', 'phoneNumbers', 'datesOfBirth'] as const;

function fill(size: number, unit: string, tail = ''): string {
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size - tail.length) + tail;
}

const families: Array<[string, string, string?]> = [
  ['word', 'a'], ['word then @', 'a', '@'], ['dotted', 'a.'], ['at signs', 'a@'], ['digits', '1'],
  ['spaced digits', '1 '], ['dashed digits', '1-'], ['plus', '+1 '], ['parens', '(12)'],
  ['digit words', 'one '], ['o o o', 'o '], ['digit words, commas', 'one, '], ['spaces then x', ' ', 'x'],
  ['born', 'born '], ['dob', 'dob'], ['months', 'jan 1, '], ['slashes', '1/1/'], ['mixed', 'a1@b.c '],
];

function bestMs(run: () => void): number {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    run();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

describe('redaction cost', () => {
  it.each(categories)('1 MB adversarial strings redact in < 5 ms (%s)', (category) => {
    const redact = createRedactor({ ...none, [category]: true });
    const slow: string[] = [];
    for (const [name, unit, tail] of families) {
      const input = fill(1 << 20, unit, tail);
      const ms = bestMs(() => redact(input));
      if (ms >= 5) slow.push(`${name}: ${ms.toFixed(1)} ms`);
    }
    expect(slow).toEqual([]);
  });

  it.each(categories)('every %s rule is linear in its input', (category) => {
    const rules = redactionRules({ ...none, [category]: true });
    const superlinear: string[] = [];
    for (const [index, rule] of rules.entries()) {
      for (const [name, unit, tail] of families) {
        const small = fill(16 * 1024, unit, tail);
        const large = fill(128 * 1024, unit, tail);
        const run = (s: string) => () => s.replace(rule.pattern, rule.label);
        const ratio = bestMs(run(large)) / Math.max(bestMs(run(small)), 0.05);
        // 8× the input: linear ≈ 8, quadratic ≈ 64.
        if (ratio > 32) superlinear.push(`rule ${index} on ${name}: ×${ratio.toFixed(1)}`);
      }
    }
    expect(superlinear).toEqual([]);
  });

  it('cuts an oversized string without leaving a number split at the cut', () => {
    const redact = createRedactor({ ...none, cardNumbers: true });
    const input = 'x'.repeat(MAX_REDACTED_CHARS - 10) + ' 4111 1111 1111 1111';
    const out = redact(input);
    expect(out.length).toBeLessThan(MAX_REDACTED_CHARS + 20);
    expect(out.includes('1111')).toBe(false);
  });
});
