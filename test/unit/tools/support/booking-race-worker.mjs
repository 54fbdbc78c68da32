// One racer: opens its own connection, waits at the shared start gate, then tries to book every
// slot in workerData.slots as fast as it can. Reports per-slot outcomes to the test.
import { parentPort, workerData } from 'node:worker_threads';

const { openDatabase } = await import(workerData.databaseUrl);
const { BookingStore } = await import(workerData.bookingStoreUrl);

const db = openDatabase({ dataDir: workerData.dataDir });
const store = new BookingStore(db);
const gate = new Int32Array(workerData.gate);
Atomics.add(gate, 1, 1);
Atomics.wait(gate, 0, 0);

const outcomes = [];
for (const slot of workerData.slots) {
  try {
    const change = store.book({ name: workerData.name, phone: workerData.phone, date: slot.date, time: slot.time });
    outcomes.push(change.ok ? { ...slot, won: true, bookingId: change.booking.bookingId } : { ...slot, won: false, code: change.code });
  } catch (error) {
    outcomes.push({ ...slot, won: false, code: String(error) });
  }
}
db.close();
parentPort.postMessage(outcomes);
