// One racer process: its own pool on the shared database; books every slot it is given as fast as
// it can once the parent says "go", and reports per-slot outcomes.
const { createPool } = await import(process.env.POOL_URL);
const { PostgresBookings } = await import(process.env.BOOKINGS_URL);
const { pino } = await import('pino');

const pool = createPool({ url: process.env.DATABASE_URL, poolMax: 4, statementTimeoutMs: 5000, connectTimeoutMs: 5000 }, pino({ level: 'silent' }));
const store = new PostgresBookings(pool);
const slots = JSON.parse(process.env.SLOTS);
await pool.query('SELECT 1'); // connected before the start gate
process.send({ ready: true });
process.once('message', async () => {
  const outcomes = await Promise.all(
    slots.map(async (slot) => {
      const change = await store.book({ name: process.env.RACER, phone: '5550000000', date: slot.date, time: slot.time });
      return change.ok ? { ...slot, won: true, bookingId: change.booking.bookingId } : { ...slot, won: false, code: change.code };
    }),
  );
  await pool.end();
  process.send({ outcomes }, () => process.exit(0));
});
