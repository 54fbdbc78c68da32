import { describe, expect, it } from 'vitest';
import { createRedactor, redactDeep, type RedactionConfig } from '../../src/observability/redact.js';

const all: RedactionConfig = { cardNumbers: true, phoneNumbers: true, datesOfBirth: true, emails: true, custom: ['MRN-\\d{6}'] };
const redact = createRedactor(all);

describe('redaction', () => {
  it.each([
    ['my card is 4111 1111 1111 1111 thanks', 'my card is [card] thanks'],
    ['card 4111-1111-1111-1112', 'card [card]'],
    ['four one one one one one one one one one one one one one one one', '[card]'],
    ['call me at 555-123-4567', 'call me at [phone]'],
    ['call me at +1 (555) 123-4567 please', 'call me at [phone] please'],
    ['five five five one two three four five six seven', '[phone]'],
    ['my number is five five five, one two three, four five six seven', 'my number is [phone]'],
    ['double five five one two three four', '[phone]'],
    ['I was born on March 3rd 1980.', 'I was [dob].'],
    ['dob 03/24/1980', '[dob]'],
    ['she was 03/24/1980', 'she was [dob]'],
    ['march 24, 1980', '[dob]'],
    ['write to jane.doe+x@example.co.uk', 'write to [email]'],
    ['record MRN-123456 here', 'record [redacted] here'],
    // Not personal data: short numbers, times, appointment dates, booking ids.
    ['book tuesday at three thirty', 'book tuesday at three thirty'],
    ['your booking number is 123456', 'your booking number is 123456'],
    ['on 2026-11-24 at 15:30', 'on 2026-11-24 at 15:30'],
    ['press one for yes', 'press one for yes'],
  ])('%j → %j', (input, output) => {
    expect(redact(input)).toBe(output);
  });

  it('honours switches', () => {
    const onlyEmail = createRedactor({ cardNumbers: false, phoneNumbers: false, datesOfBirth: false, emails: true, custom: [] });
    expect(onlyEmail('555-123-4567 a@b.com')).toBe('555-123-4567 [email]');
  });

  it('walks records deeply without touching keys or non-strings', () => {
    const record = { turns: [{ text: 'five five five one two three four', n: 3 }], toolCalls: [{ args: { phone: '5551234567' } }] };
    expect(redactDeep(record, redact)).toEqual({ turns: [{ text: '[phone]', n: 3 }], toolCalls: [{ args: { phone: '[phone]' } }] });
  });
});

describe('redaction leaves identifiers alone', () => {
  it.each(['CA0123456789abcdef0123456789abcdef', 'MZ5551234567000000000000000000000'])('%s', (sid) => {
    expect(redact(sid)).toBe(sid);
  });
});
