import { describe, expect, it } from 'vitest';
import { addDays, formatDateForSpeech, parseDate, todayIn, weekdayName } from '../../../src/dialog/slots/dates.js';
import { callerIdDigits, formatDigitsForSpeech, parseDigitString, parseKeypadEntry } from '../../../src/dialog/slots/digits.js';
import { BUILT_IN_FIRST_NAMES, nameParser } from '../../../src/dialog/slots/names.js';
import { normalizeUtterance } from '../../../src/dialog/slots/normalize.js';
import { numberToWords, ordinalToWords, readCardinal, readOrdinal } from '../../../src/dialog/slots/numbers.js';
import { formatTimeForSpeech, parseTime } from '../../../src/dialog/slots/times.js';
import { parseYesNo } from '../../../src/dialog/slots/yes-no.js';

// Monday 17 March 2025.
const TODAY = '2025-03-17';

describe('dates', () => {
  it('knows the weekday of the fixture', () => expect(weekdayName(TODAY)).toBe('monday'));
  it.each([
    ['today', '2025-03-17'],
    ['tomorrow', '2025-03-18'],
    ['the day after tomorrow', '2025-03-19'],
    ['tuesday', '2025-03-18'],
    ['next tuesday', '2025-03-18'],
    ['monday', '2025-03-24'],
    ['tuesday next week', '2025-03-25'],
    ['on friday please', '2025-03-21'],
    ['the twenty fourth', '2025-03-24'],
    ['the 24th', '2025-03-24'],
    ['the third', '2025-04-03'],
    ['march third', '2025-03-03'.replace('2025', '2026')],
    ['march the twentieth', '2025-03-20'],
    ['the third of april', '2025-04-03'],
    ['April 3rd', '2025-04-03'],
    ['march 31', '2025-03-31'],
    ['the thirty first', '2025-03-31'],
    ['february thirtieth', null],
    ['three p m', null],
    ['hello', null],
  ])('%s → %s', (text, expected) => expect(parseDate(text, TODAY)).toBe(expected));

  it('skips short months for a day of month', () => expect(parseDate('the thirty first', '2025-04-02')).toBe('2025-05-31'));
  it('computes today in the clinic time zone', () => {
    const now = new Date('2025-03-18T02:30:00Z'); // still the 17th in New York
    expect(todayIn('America/New_York', now)).toBe('2025-03-17');
    expect(todayIn('Europe/Berlin', now)).toBe('2025-03-18');
  });
  it('adds days across DST and months', () => expect(addDays('2025-03-08', 2)).toBe('2025-03-10'));
  it.each([
    ['2025-03-18', 'Tuesday, March eighteenth'],
    ['2025-03-03', 'Monday, March third'],
    ['2025-04-24', 'Thursday, April twenty fourth'],
  ])('reads back %s as %s', (iso, spoken) => expect(formatDateForSpeech(iso)).toBe(spoken));
});

describe('times', () => {
  it.each([
    ['three p m', '15:00'],
    ['three pm', '15:00'],
    ['3 p.m.', '15:00'],
    ['3pm', '15:00'],
    ['three thirty', '15:30'],
    ['nine thirty', '09:30'],
    ['half past two', '14:30'],
    ['quarter to four', '15:45'],
    ['quarter past nine', '09:15'],
    ['ten past three', '15:10'],
    ['noon', '12:00'],
    ['twelve noon', '12:00'],
    ['ten o clock in the morning', '10:00'],
    ["ten o'clock in the morning", '10:00'],
    ['ten a m', '10:00'],
    ['at eleven', '11:00'],
    ['three', '15:00'],
    ['nine oh five', '09:05'],
    ['four forty five p m', '16:45'],
    ['3:30', '15:30'],
    ['15:30', '15:30'],
    ['seven in the evening', '19:00'],
    ['no make it four p m', '16:00'],
    ['tuesday at two', '14:00'],
    ['the twenty fourth', null],
    ['march 3', null],
    ['hello', null],
  ])('%s → %s', (text, expected) => expect(parseTime(text)).toBe(expected));

  it('picks the hour inside the opening hours', () => {
    expect(parseTime('seven', { openMinutes: 7 * 60, closeMinutes: 12 * 60 })).toBe('07:00');
    expect(parseTime('eight', { openMinutes: 13 * 60, closeMinutes: 21 * 60 })).toBe('20:00');
  });
  it.each([
    ['15:30', 'three thirty p.m.'],
    ['15:00', 'three p.m.'],
    ['09:05', 'nine oh five a.m.'],
    ['12:00', 'twelve noon'],
    ['12:30', 'twelve thirty p.m.'],
  ])('reads back %s as %s', (hhmm, spoken) => expect(formatTimeForSpeech(hhmm)).toBe(spoken));
});

describe('digits', () => {
  it.each([
    ['five five five one two three four', '5551234'],
    ['five five five oh one two three', '5550123'],
    ['double five five one two three four', '5551234'],
    ['triple five one two three four', '5551234'],
    ['my number is five five five, one two three, four five six seven', '5551234567'],
    ['555-123-4567', '5551234567'],
    ['zero', '0'],
    ['hello five', '5'],
    ['you can reach me at two zero two, four five six, seven eight nine one thanks', '2024567891'],
    ['five five five to one two three', '5552123'],
    ['book two at three', null],
    ['double booking', null],
    ['', null],
  ])('%s → %s', (text, expected) => expect(parseDigitString(text)).toBe(expected));
  it.each([
    ['5551234#', '5551234'],
    ['55*5551234', '5551234'],
    ['12#34', '12'],
    ['*', ''],
  ])('keypad %s → %s', (keys, expected) => expect(parseKeypadEntry(keys)).toBe(expected));
  it.each([
    ['5551234567', 'five five five, one two three, four five six seven'],
    ['5551234', 'five five five, one two three four'],
    ['15551234567', 'one, five five five, one two three, four five six seven'],
  ])('reads back %s', (digits, spoken) => expect(formatDigitsForSpeech(digits)).toBe(spoken));
  it('turns caller ID into a national number', () => {
    expect(callerIdDigits('+15551234567')).toBe('5551234567');
    expect(callerIdDigits('+442071234567')).toBe('442071234567');
    expect(callerIdDigits('anonymous')).toBeNull();
  });
});

describe('yes/no', () => {
  it.each([
    ['yes', 'yes'], ['yeah', 'yes'], ['yep', 'yes'], ['correct', 'yes'], ["that's right", 'yes'], ['that is right', 'yes'],
    ['no', 'no'], ['nope', 'no'], ["that's wrong", 'no'], ["that's not right", 'no'], ['no, four p m', 'no'],
    ['tuesday', null],
  ] as const)('%s → %s', (text, expected) => expect(parseYesNo(text)).toBe(expected));
});

describe('names', () => {
  const parse = nameParser(BUILT_IN_FIRST_NAMES);
  it.each([
    ['my name is sarah', 'Sarah'],
    ['it is mary jane', 'Mary Jane'],
    ['Alex', 'Alex'],
    ['zorblax', null],
  ])('%s → %s', (text, expected) => expect(parse(text)).toBe(expected));
});

describe('numbers', () => {
  it.each([[0, 'zero'], [7, 'seven'], [13, 'thirteen'], [40, 'forty'], [45, 'forty five'], [105, 'one hundred five'], [2025, 'two thousand twenty five']])(
    '%i → %s', (n, w) => expect(numberToWords(n)).toBe(w));
  it.each([[1, 'first'], [3, 'third'], [12, 'twelfth'], [20, 'twentieth'], [24, 'twenty fourth'], [31, 'thirty first']])(
    'ordinal %i → %s', (n, w) => expect(ordinalToWords(n)).toBe(w));
  it('reads words back to numbers', () => {
    expect(readCardinal(['forty', 'five'], 0)).toEqual({ value: 45, length: 2 });
    expect(readOrdinal(['twenty', 'fourth'], 0)).toEqual({ value: 24, length: 2 });
    expect(readOrdinal(['24th'], 0)).toEqual({ value: 24, length: 1 });
  });
  it('normalizes punctuation and contractions', () => {
    expect(normalizeUtterance("That's right, 3:30 P.M.!")).toBe('that is right 3:30 p m');
    expect(normalizeUtterance("I'd like ten o'clock")).toBe('i would like ten o clock');
    expect(normalizeUtterance('I am here')).toBe('i am here');
  });
});
