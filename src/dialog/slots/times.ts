/**
 * Spoken times: "three p m", "three thirty", "half past two", "quarter to four", "noon",
 * "ten o'clock in the morning", "3:30 pm". Without a.m./p.m. the hour is resolved to the one that
 * falls inside the clinic's opening hours, because nobody books a 3 a.m. appointment.
 */
import { words } from './normalize.js';
import { numberToWords, readCardinal } from './numbers.js';

export interface ClockWindow {
  /** Earliest opening, minutes since midnight. */
  openMinutes: number;
  /** Latest closing, minutes since midnight. */
  closeMinutes: number;
}

export const DEFAULT_WINDOW: ClockWindow = { openMinutes: 8 * 60, closeMinutes: 18 * 60 };

type Meridiem = 'am' | 'pm' | null;

function meridiemAt(t: readonly string[], i: number): { meridiem: Meridiem; length: number } {
  const a = t[i];
  const b = t[i + 1];
  if ((a === 'a' && b === 'm') || a === 'am') return { meridiem: 'am', length: a === 'am' ? 1 : 2 };
  if ((a === 'p' && b === 'm') || a === 'pm') return { meridiem: 'pm', length: a === 'pm' ? 1 : 2 };
  if (a === 'in' && b === 'the') {
    const c = t[i + 2];
    if (c === 'morning') return { meridiem: 'am', length: 3 };
    if (c === 'afternoon' || c === 'evening') return { meridiem: 'pm', length: 3 };
  }
  if (a === 'this' && (b === 'morning' || b === 'afternoon' || b === 'evening')) return { meridiem: b === 'morning' ? 'am' : 'pm', length: 2 };
  return { meridiem: null, length: 0 };
}

function resolveHour(hour12: number, meridiem: Meridiem, window: ClockWindow, minute: number): number {
  const base = hour12 % 12;
  if (meridiem === 'am') return base;
  if (meridiem === 'pm') return base + 12;
  const inside = (h: number) => h * 60 + minute >= window.openMinutes && h * 60 + minute < window.closeMinutes;
  if (inside(base) && !inside(base + 12)) return base;
  if (inside(base + 12) && !inside(base)) return base + 12;
  // Neither or both: the usual reading of a bare clinic hour (7–11 morning, 12–6 afternoon).
  return hour12 >= 7 && hour12 <= 11 ? base : base + 12;
}

const pad = (n: number) => String(n).padStart(2, '0');
/** Words that make a following bare number a time: "at four", "make it four". */
const LEAD_INS = new Set(['at', 'it', 'about', 'around', 'say', 'by']);
const MINUTE_WORDS = new Map([['quarter', 15], ['half', 30]]);

/** `HH:MM` (24 h), or null. */
export function parseTime(text: string, window: ClockWindow = DEFAULT_WINDOW): string | null {
  const t = words(text);
  for (let i = 0; i < t.length; i++) {
    const w = t[i]!;
    if (w === 'noon' || w === 'midday') return '12:00';
    const colon = /^(\d{1,2}):(\d{2})$/.exec(w);
    if (colon) {
      const h = Number(colon[1]);
      const m = Number(colon[2]);
      if (h > 23 || m > 59) return null;
      if (h > 12 || h === 0) return `${pad(h)}:${pad(m)}`;
      return `${pad(resolveHour(h, meridiemAt(t, i + 1).meridiem, window, m))}:${pad(m)}`;
    }
    // "half past two", "quarter to four", "ten past three", "twenty five to four"
    const rel = MINUTE_WORDS.has(w) ? { value: MINUTE_WORDS.get(w)!, length: 1 } : readCardinal(t, i);
    if (rel && (t[i + rel.length] === 'past' || t[i + rel.length] === 'to' || t[i + rel.length] === 'after')) {
      const hour = readCardinal(t, i + rel.length + 1);
      if (hour && hour.value >= 1 && hour.value <= 12 && rel.value > 0 && rel.value < 60) {
        const minute = t[i + rel.length] === 'to' ? 60 - rel.value : rel.value;
                const m = meridiemAt(t, i + rel.length + 1 + hour.length).meridiem;
        const h24 = resolveHour(hour.value, m, window, minute);
        const h = t[i + rel.length] === 'to' ? (h24 + 23) % 24 : h24;
        return `${pad(h)}:${pad(minute)}`;
      }
    }
    const hour = readCardinal(t, i);
    if (!hour || hour.value < 1 || hour.value > 12) continue;
    let at = i + hour.length;
    let minute = 0;
    if (t[at] === 'o' && t[at + 1] === 'clock') at += 2;
    else if ((t[at] === 'oh' || t[at] === 'o') && readCardinal(t, at + 1)?.value !== undefined) {
      const m = readCardinal(t, at + 1)!;
      if (m.value > 9) continue;
      minute = m.value;
      at += 1 + m.length;
    } else {
      const m = readCardinal(t, at);
      if (m && m.value >= 10 && m.value <= 59) {
        minute = m.value;
        at += m.length;
      }
    }
    if (t[at] === 'o' && t[at + 1] === 'clock') at += 2;
    const { meridiem } = meridiemAt(t, at);
    // A lone number with nothing that marks it as a time is only a time when it is all there is.
    const marked = meridiem !== null || at > i + hour.length || LEAD_INS.has(t[i - 1] ?? '');
    if (!marked && t.length > hour.length) continue;
    if (meridiem === null && t[at] === 'noon' && hour.value === 12) return '12:00';
    return `${pad(resolveHour(hour.value, meridiem, window, minute))}:${pad(minute)}`;
  }
  return null;
}

/** "15:30" → "three thirty p.m.", "09:05" → "nine oh five a.m.", "12:00" → "twelve noon". */
export function formatTimeForSpeech(hhmm: string): string {
  const h = Number(hhmm.slice(0, 2));
  const m = Number(hhmm.slice(3, 5));
  if (h === 12 && m === 0) return 'twelve noon';
  const hour12 = h % 12 === 0 ? 12 : h % 12;
  const minutes = m === 0 ? '' : m < 10 ? ` oh ${numberToWords(m)}` : ` ${numberToWords(m)}`;
  return `${numberToWords(hour12)}${minutes} ${h < 12 ? 'a.m.' : 'p.m.'}`;
}

/** "HH:MM" → minutes since midnight. */
export function toMinutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** Keypad time entry `HMM` or `HHMM` ("0230" → 14:30 at a day clinic; "1430" → 14:30). */
export function parseKeypadTime(digits: string, window: ClockWindow = DEFAULT_WINDOW): string | null {
  const m = /^(\d{1,2})(\d{2})$/.exec(digits);
  if (!m) return null;
  return parseTime(`${Number(m[1])}:${m[2]}`, window);
}
