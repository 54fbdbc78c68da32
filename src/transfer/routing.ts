/**
 * Who gets a transfer, and whether anyone is there now: pure functions of the config and the
 * clock, so the tool (deciding) and the tests agree on the same rule.
 */
import type { CalendarConfig } from '../config/calendar-config.js';
import { localDateTime, weekdayOf } from '../tools/clinic-time.js';
import type { TransferConfig, TransferHours, TransferTarget, TransferTopic } from '../config/transfer-schema.js';

export type RouteDecision =
  | { ok: true; target: TransferTarget }
  /** `no-target`: nobody configured for this topic; `outside-hours`: somebody is, but not now. */
  | { ok: false; reason: 'no-target' | 'outside-hours' };

/** True when `epochMs` falls inside `hours` (in the clinic's time zone). */
export function withinHours(hours: TransferHours, schedule: CalendarConfig, epochMs: number): boolean {
  if (hours === 'always') return true;
  const week = hours === 'business' ? schedule.hours : hours;
  const local = localDateTime(epochMs, schedule.timezone);
  const day = week[weekdayOf(local.date)];
  return day !== undefined && local.time >= day.open && local.time < day.close;
}

/**
 * The first target for `topic` that takes calls now. Targets come from the config; with none
 * listed, `fallbackNumber` (TRANSFER_NUMBER) is one target for every topic in the section's hours.
 */
export function chooseTarget(
  config: TransferConfig,
  schedule: CalendarConfig,
  topic: TransferTopic,
  epochMs: number,
  fallbackNumber?: string,
): RouteDecision {
  const targets: TransferTarget[] =
    config.targets.length > 0 ? config.targets : fallbackNumber ? [{ label: 'front desk', number: fallbackNumber }] : [];
  const forTopic = targets.filter((t) => !t.topics || t.topics.includes(topic) || (topic === 'general' && t.topics.includes('general')));
  if (forTopic.length === 0) return { ok: false, reason: 'no-target' };
  const open = forTopic.find((t) => withinHours(t.hours ?? config.hours, schedule, epochMs));
  return open ? { ok: true, target: open } : { ok: false, reason: 'outside-hours' };
}
