/** The embedded state store: SQLite files and JSON records under DATA_DIR, one machine. */
import { openDatabase } from '../database.js';
import type { StateStore } from '../ports.js';
import { EmbeddedBookings } from './bookings.js';
import { CallRecordFiles } from './call-record-files.js';
import { EmbeddedCommands } from './commands.js';
import { EmbeddedDocuments } from './documents.js';
import { EmbeddedLiveCalls } from './live-calls.js';
import { openRuntimeDb } from './runtime-db.js';
import { SqliteTransferStore } from './transfers.js';

export interface OpenEmbeddedOptions {
  dataDir: string;
  now?: () => number;
}

export function openEmbeddedStore(options: OpenEmbeddedOptions): StateStore {
  const db = openDatabase({ dataDir: options.dataDir });
  const runtime = openRuntimeDb(options.dataDir);
  return {
    kind: 'embedded',
    bookings: new EmbeddedBookings(db, options.now),
    callRecords: new CallRecordFiles(options.dataDir),
    liveCalls: new EmbeddedLiveCalls(runtime),
    commands: new EmbeddedCommands(runtime),
    documents: new EmbeddedDocuments(runtime),
    transfers: new SqliteTransferStore(db, options.now),
    async ping() {
      return db.open && runtime.open;
    },
    async close() {
      runtime.close();
      db.close();
    },
  };
}
