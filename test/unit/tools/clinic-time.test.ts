import { describe, expect, it } from 'vitest';
import {
  addDays,
  isCalendarDate,
  isPast,
  localDateTime,
  slotTimesOn,
  weekdayOf,
} from '../../../src/tools/clinic-time.js';
import { clinicCalendar, mondayMorning } from './support/fixtures.js';

describe('clinic time', () => {
  it('renders an instant on the clinic wall clock, not UTC', () => {
    expect(localDateTime(mondayMorning, 'America/New_York')).toEqual({ date: '2025-06-02', time: '10:07' });
    // 02:30 UTC on Tuesday is still Monday evening in New York.
    expect(localDateTime(Date.UTC(2025, 5, 3, 2, 30), 'America/New_York')).toEqual({
      date: '2025-06-02',
      time: '22:30',
    });
    expect(localDateTime(Date.UTC(2025, 5, 2, 23, 59), 'UTC').time).toBe('23:59');
  });

  it('knows weekdays, month ends and impossible dates', () => {
    expect(weekdayOf('2025-06-02')).toBe('monday');
    expect(weekdayOf('2025-06-08')).toBe('sunday');
    expect(addDays('2025-02-28', 1)).toBe('2025-03-01');
    expect(addDays('2024-12-31', 1)).toBe('2025-01-01');
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2025-02-29')).toBe(false);
    expect(isCalendarDate('2025-13-01')).toBe(false);
  });

  it('lists slot starts so that every slot ends by closing time', () => {
    const calendar = clinicCalendar({ slotMinutes: 45 });
    expect(slotTimesOn(calendar, '2025-06-06')).toEqual(['09:00', '09:45', '10:30', '11:15', '12:00', '12:45', '13:30', '14:15']);
    expect(slotTimesOn(calendar, '2025-06-07')).toEqual([]);
  });

  it('treats the current minute as past', () => {
    const now = { date: '2025-06-02', time: '10:07' };
    expect(isPast(now, '2025-06-02', '10:07')).toBe(true);
    expect(isPast(now, '2025-06-02', '10:08')).toBe(false);
    expect(isPast(now, '2025-06-01', '23:00')).toBe(true);
    expect(isPast(now, '2025-06-03', '00:00')).toBe(false);
  });
});
