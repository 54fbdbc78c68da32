/**
 * Redaction cost: every log line passes through the redactor, including attacker-controlled
 * strings, so no input may make it superlinear. Each rule is fed adversarial strings (long runs of
 * what it matches, almost-matches, and separators). Cost is CPU time, the least of several runs
 * (testkit/helpers/cpu-cost.ts): on a quiet machine that is the wall time the log line would
 * block the process for, and a busy machine, which delays us without making us use more CPU,
 * does not decide the verdict. Linearity compares two sizes measured interleaved in the same run.
 */
import { describe, expect, it } from 'vitest';
import { createRedactor, MAX_REDACTED_CHARS, redactionRules, type RedactionConfig } from '../../src/observability/redact.js';
import { bestCpuMs, bestCpuMsEach } from '../../testkit/helpers/cpu-cost.js';

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

/** A measurement over the limit is taken again: a suspect must be slow every time to count. */
function confirmedCpuMs(work: () => void, limitMs: number): number {
  let ms = bestCpuMs(work);
  for (let retry = 0; retry < 3 && ms >= limitMs; retry++) ms = Math.min(ms, bestCpuMs(work));
  return ms;
}

describe('redaction cost', () => {
  it.each(categories)('1 MB adversarial strings redact in < 5 ms (%s)', (category) => {
    const redact = createRedactor({ ...none, [category]: true });
    const slow: string[] = [];
    for (const [name, unit, tail] of families) {
      const input = fill(1 << 20, unit, tail);
      const ms = confirmedCpuMs(() => redact(input), 5);
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
        // 8× the input: linear ≈ 8, quadratic ≈ 64. Both sizes are timed turn about, so they see the same machine.
        const ratioOf = () => {
          const [largeMs, smallMs] = bestCpuMsEach([run(large), run(small)], 7);
          return largeMs! / Math.max(smallMs!, 0.05);
        };
        let ratio = ratioOf();
        for (let retry = 0; retry < 2 && ratio > 32; retry++) ratio = Math.min(ratio, ratioOf());
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
