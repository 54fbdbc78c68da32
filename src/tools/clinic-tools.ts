/**
 * All clinic tools, wired from config. The server builds them once at startup and gives each
 * call its own ToolRunner:
 *
 *   const db = openDatabase({ dataDir });
 *   const tools = createClinicTools({ db, calendar, clock: systemClock, transfer });
 *   const runner = new ToolRunner({ tools, call: { callSid, from } }); // per call
 */
import type { Database } from '../store/database.js';
import { createCalendarTools } from './calendar.js';
import type { CalendarConfig } from '../config/calendar-config.js';
import type { ClinicToolName } from './calendar-schemas.js';
import type { Clock } from './clinic-time.js';
import type { Tool } from './tool.js';
import { createTransferTool, type TransferOptions } from './transfer.js';
import { createCallbackTool, type CallbackToolOptions } from './callback.js';
import { SqliteTransferStore } from '../store/transfer-store-sqlite.js';

export interface ClinicToolsOptions {
  db: Database;
  calendar: CalendarConfig;
  clock: Clock;
  transfer: TransferOptions;
  /** Sees each stored callback request (metrics). Requests go to `transfer.store`, else to `db`. */
  onCallbackStored?: CallbackToolOptions['onStored'];
}

export function createClinicTools(options: ClinicToolsOptions): Tool[] {
  const tools: Tool[] = [
    ...createCalendarTools({ db: options.db, calendar: options.calendar, clock: options.clock }),
    createTransferTool(options.transfer),
    createCallbackTool({
      store: options.transfer.store ?? new SqliteTransferStore(options.db, () => options.clock.now()),
      ...(options.onCallbackStored ? { onStored: options.onCallbackStored } : {}),
    }),
  ];
  return tools;
}

/** Every name in the contract (`clinicToolInputs`), for checks that the set is complete. */
export const clinicToolNames: readonly ClinicToolName[] = [
  'check_availability',
  'book_appointment',
  'find_bookings',
  'cancel_appointment',
  'reschedule_appointment',
  'transfer_to_person',
  'request_callback',
];
