/**
 * Row → object mapping for the tables both adapters have (bookings, live calls, call commands),
 * one definition each: the SQLite and PostgreSQL tables share column names; only the time columns
 * come back differently (ISO text or epoch ms from SQLite, Date from PostgreSQL).
 */
import type { CallCommand, CallCommandKind, LiveCall, LiveCallState, StoredBooking } from './ports.js';

export type StoredTime = string | number | Date;

/** ISO-8601 for any of the adapters' time columns. */
export const isoTime = (value: StoredTime): string => (typeof value === 'string' ? value : new Date(value).toISOString());

export interface BookingRow {
  id: string;
  name: string;
  phone: string;
  date: string;
  time: string;
  service: string | null;
  status: 'booked' | 'cancelled';
}

export const BOOKING_COLUMNS = 'id, name, phone, date, time, service, status';

export const toBooking = (row: BookingRow): StoredBooking => ({
  bookingId: row.id,
  name: row.name,
  phone: row.phone,
  date: row.date,
  time: row.time,
  service: row.service,
  status: row.status,
});

export interface LiveRow {
  call_sid: string;
  stream_sid: string;
  worker_id: string;
  machine: string;
  started_at: StoredTime;
  state: LiveCallState;
  lease_until: StoredTime;
}

export const LIVE_CALL_COLUMNS = 'call_sid, stream_sid, worker_id, machine, started_at, state, lease_until';

export const toLiveCall = (row: LiveRow): LiveCall => ({
  callSid: row.call_sid,
  streamSid: row.stream_sid,
  workerId: row.worker_id,
  machine: row.machine,
  startedAt: isoTime(row.started_at),
  state: row.state,
  leaseUntil: isoTime(row.lease_until),
});

export interface CommandRow {
  id: string;
  call_sid: string;
  worker_id: string;
  kind: CallCommandKind;
  target: string | null;
  created_at: StoredTime;
}

export const COMMAND_COLUMNS = 'id, call_sid, worker_id, kind, target, created_at';

export const toCommand = (row: CommandRow): CallCommand => ({
  id: row.id,
  callSid: row.call_sid,
  workerId: row.worker_id,
  kind: row.kind,
  ...(row.target ? { to: row.target } : {}),
  createdAt: isoTime(row.created_at),
});
