/**
 * Spoken dates relative to the clinic's "today": "today", "tomorrow", "next tuesday", "tuesday",
 * "the twenty fourth", "march third", "the third of march", "the 24th". Dates are civil dates
 * (`YYYY-MM-DD`) in the clinic's time zone; arithmetic uses UTC so DST never shifts a day.
 */
import { words } from './normalize.js';
import { ordinalToWords, readCardinal, readOrdinal } from './numbers.js';

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'] as const;

/** Today's civil date in `timeZone`, as `YYYY-MM-DD`. */
export function todayIn(timeZone: string, now: Date): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** Minutes since midnight now in `timeZone`. */
export function minutesNowIn(timeZone: string, now: Date): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

function toUtc(iso: string): Date {
  const [y, m, d] = iso.split('-').map(Number);
  return new Date(Date.UTC(y!, m! - 1, d!));
}

function fromUtc(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function addDays(iso: string, days: number): string {
  const d = toUtc(iso);
  d.setUTCDate(d.getUTCDate() + days);
  return fromUtc(d);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekdayIndex(iso: string): number {
  return toUtc(iso).getUTCDay();
}

export function weekdayName(iso: string): (typeof WEEKDAYS)[number] {
  return WEEKDAYS[weekdayIndex(iso)]!;
}

function validDate(year: number, month: number, day: number): string | null {
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return fromUtc(d);
}

/** The first `month`/`day` on or after `today` (this year, else next year). */
function nextMonthDay(today: string, month: number, day: number): string | null {
  const year = Number(today.slice(0, 4));
  for (const y of [year, year + 1, year + 2, year + 3, year + 4]) {
    const iso = validDate(y, month, day);
    if (iso && iso >= today) return iso;
  }
  return null;
}

/** The first date with this day-of-month on or after `today` (skipping short months). */
function nextDayOfMonth(today: string, day: number): string | null {
  let year = Number(today.slice(0, 4));
  let month = Number(today.slice(5, 7));
  for (let i = 0; i < 13; i++) {
    const iso = validDate(year, month, day);
    if (iso && iso >= today) return iso;
    month = month === 12 ? 1 : month + 1;
    if (month === 1) year++;
  }
  return null;
}

const monthOf = (token: string | undefined) => MONTHS.indexOf(token as (typeof MONTHS)[number]) + 1;

/**
 * The date a caller means, or null. A bare or "next" weekday is the first one after today: the
 * read-back says the full date, so a caller who meant the week after can correct it.
 */
export function parseDate(text: string, today: string): string | null {
  const t = words(text);
  for (let i = 0; i < t.length; i++) {
    const w = t[i]!;
    if (w === 'today') return today;
    if (w === 'tomorrow') return t[i - 1] === 'after' && t[i - 2] === 'day' ? addDays(today, 2) : addDays(today, 1);
    const wd = WEEKDAYS.indexOf(w as (typeof WEEKDAYS)[number]);
    if (wd >= 0) {
      const ahead = ((wd - weekdayIndex(today) + 7) % 7) || 7;
      const weekLater = t[i + 1] === 'next' && t[i + 2] === 'week';
      return addDays(today, ahead + (weekLater ? 7 : 0));
    }
    const month = monthOf(w);
    if (month > 0) {
      // "march third", "march the third", "march 3", "march 3rd"
      const at = t[i + 1] === 'the' ? i + 2 : i + 1;
      const day = readOrdinal(t, at, true) ?? readCardinal(t, at);
      if (day && day.value >= 1 && day.value <= 31) return nextMonthDay(today, month, day.value);
    }
    const ordinal = readOrdinal(t, i);
    if (ordinal && ordinal.value <= 31) {
      // "the third of march" / "the twenty fourth"
      const after = i + ordinal.length;
      const ofMonth = t[after] === 'of' ? monthOf(t[after + 1]) : monthOf(t[after]);
      return ofMonth > 0 ? nextMonthDay(today, ofMonth, ordinal.value) : nextDayOfMonth(today, ordinal.value);
    }
  }
  return null;
}

/** "Tuesday, March third". */
export function formatDateForSpeech(iso: string): string {
  const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);
  const month = MONTHS[Number(iso.slice(5, 7)) - 1]!;
  return `${cap(weekdayName(iso))}, ${cap(month)} ${ordinalToWords(Number(iso.slice(8, 10)))}`;
}

/** Keypad date entry as month and day, `MMDD` ("0324" → the next March 24th). */
export function parseKeypadDate(digits: string, today: string): string | null {
  const m = /^(\d{2})(\d{2})$/.exec(digits);
  if (!m) return null;
  const month = Number(m[1]);
  const day = Number(m[2]);
  return month >= 1 && month <= 12 ? nextMonthDay(today, month, day) : null;
}
