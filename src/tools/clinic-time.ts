/**
 * Wall-clock arithmetic in the clinic's time zone. Dates (`YYYY-MM-DD`) and times (`HH:MM`) are
 * kept as local strings end to end: they sort correctly as text, and comparing them with "now"
 * rendered in the same zone avoids converting local times to instants (and the DST traps in that).
 */
import type { CalendarConfig, Weekday } from '../config/calendar-config.js';

/** Injected time source, so tests can fix "now". */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface LocalDateTime {
  date: string;
  time: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The instant `epochMs` as date and time on the clinic's wall clock. */
export function localDateTime(epochMs: number, timeZone: string): LocalDateTime {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(epochMs))) parts[part.type] = part.value;
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

function parseDate(date: string): Date {
  const [year, month, day] = date.split('-').map(Number);
  return new Date(Date.UTC(year ?? NaN, (month ?? NaN) - 1, day ?? NaN));
}

/** False for strings that match YYYY-MM-DD but name no day, such as 2025-02-30. */
export function isCalendarDate(date: string): boolean {
  const parsed = parseDate(date);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === date;
}

export function addDays(date: string, days: number): string {
  const parsed = parseDate(date);
  parsed.setUTCDate(parsed.getUTCDate() + days);
  return parsed.toISOString().slice(0, 10);
}

const weekdaysFromSunday: readonly Weekday[] = [
  'sunday',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
];

/** The weekday of a calendar date; it does not depend on any time zone. */
export function weekdayOf(date: string): Weekday {
  const weekday = weekdaysFromSunday[parseDate(date).getUTCDay()];
  if (!weekday) throw new RangeError(`not a calendar date: ${date}`);
  return weekday;
}

export function minutesOf(time: string): number {
  const [hours, minutes] = time.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

export function timeOf(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** Start times of the slots on `date`: every slot must end by closing time. Empty when closed. */
export function slotTimesOn(calendar: CalendarConfig, date: string): string[] {
  const hours = calendar.hours[weekdayOf(date)];
  if (!hours) return [];
  const times: string[] = [];
  const close = minutesOf(hours.close);
  for (let start = minutesOf(hours.open); start + calendar.slotMinutes <= close; start += calendar.slotMinutes) {
    times.push(timeOf(start));
  }
  return times;
}

/** True when `date` + `time` is at or before `now` on the clinic's wall clock. */
export function isPast(now: LocalDateTime, date: string, time: string): boolean {
  return date < now.date || (date === now.date && time <= now.time);
}
