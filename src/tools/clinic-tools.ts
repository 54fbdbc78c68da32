/**
 * All clinic tools, wired from config. The server builds them once at startup and gives each
 * call its own ToolRunner:
 *
 *   const db = openDatabase({ dataDir });
 *   const tools = createClinicTools({ db, calendar, clock: systemClock, transfer });
 *   const runner = new ToolRunner({ tools, call: { callSid, from } }); // per call
 */
import type { Database } from '../store/database.js';
import type { BookingPort } from '../store/ports.js';
import { createCalendarTools } from './calendar.js';
import type { CalendarConfig } from '../config/calendar-config.js';
import { CLINIC_TOOL_NAMES } from '../config/business-schema.js';
import type { ClinicToolName } from './calendar-schemas.js';
import type { Clock } from './clinic-time.js';
import type { Tool } from './tool.js';
import { createTransferTool, type TransferOptions } from './transfer.js';
import { createCallbackTool, type CallbackToolOptions } from './callback.js';
import { SqliteTransferStore } from '../store/embedded/transfers.js';
import type { TransferStore } from '../store/transfer-store.js';

export interface ClinicToolsOptions {
  /** The shared booking store (PostgreSQL or embedded); or `db`, the embedded SQLite database. */
  bookings?: BookingPort;
  db?: Database;
  calendar: CalendarConfig;
  clock: Clock;
  transfer: TransferOptions;
  /** Sees each stored callback request (metrics). Requests go to `transfer.store`, else to `db`. */
  onCallbackStored?: CallbackToolOptions['onStored'];
}

export function createClinicTools(options: ClinicToolsOptions): Tool[] {
  const tools: Tool[] = [
    ...createCalendarTools({
      ...(options.bookings ? { bookings: options.bookings } : {}),
      ...(options.db ? { db: options.db } : {}),
      calendar: options.calendar,
      clock: options.clock,
    }),
    createTransferTool(options.transfer),
    createCallbackTool({
      store: callbackStore(options),
      ...(options.onCallbackStored ? { onStored: options.onCallbackStored } : {}),
    }),
  ];
  return tools;
}

/** Where callback requests go: the given transfer store, else the embedded database's. */
function callbackStore(options: ClinicToolsOptions): TransferStore {
  if (options.transfer.store) return options.transfer.store;
  if (options.db) return new SqliteTransferStore(options.db, () => options.clock.now());
  throw new Error('clinic tools: the callback tool needs a transfer store or the embedded database');
}

/** Every name in the contract (`clinicToolInputs`), for checks that the set is complete. */
export const clinicToolNames: readonly ClinicToolName[] = CLINIC_TOOL_NAMES;
