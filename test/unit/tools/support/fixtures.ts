/** Shared fixtures for the tool tests: a temp data dir, a settable clock, a clinic calendar. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calendarConfigSchema, type CalendarConfig } from '../../../../src/config/calendar-config.js';
import type { Clock } from '../../../../src/tools/clinic-time.js';

export interface TempDir {
  path: string;
  remove(): void;
}

export function makeTempDir(prefix = 'agent-tools-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A clock that stands still until a test moves it. */
export class SettableClock implements Clock {
  constructor(private ms: number) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advanceMinutes(minutes: number): void {
    this.ms += minutes * 60_000;
  }
}

/** Monday 2025-06-02 10:07 in New York (EDT, UTC-4). */
export const mondayMorning = Date.UTC(2025, 5, 2, 14, 7);

/** Default hours (Mon–Thu 09–17, Fri 09–15, weekends closed), 30-minute slots, two weeks ahead. */
export function clinicCalendar(overrides: Partial<CalendarConfig> = {}): CalendarConfig {
  return calendarConfigSchema.parse({ timezone: 'America/New_York', daysAhead: 14, ...overrides });
}
