import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../src/store/database.js';
import { clinicToolInputs } from '../../../src/tools/calendar-schemas.js';
import { clinicToolNames, createClinicTools } from '../../../src/tools/clinic-tools.js';
import type { Tool } from '../../../src/tools/tool.js';
import { clinicCalendar, makeTempDir, mondayMorning, SettableClock, type TempDir } from './support/fixtures.js';

describe('createClinicTools', () => {
  let dir: TempDir;
  let db: Database;
  let tools: Tool[];

  beforeEach(() => {
    dir = makeTempDir();
    db = openDatabase({ dataDir: dir.path });
    tools = createClinicTools({ db, calendar: clinicCalendar(), clock: new SettableClock(mondayMorning), transfer: {} });
  });

  afterEach(() => {
    db.close();
    dir.remove();
  });

  it('provides exactly the contract tools, each validating with the contract schema', () => {
    expect(tools.map((tool) => tool.name).sort()).toEqual([...clinicToolNames].sort());
    expect(Object.keys(clinicToolInputs).sort()).toEqual([...clinicToolNames].sort());
    for (const tool of tools) {
      expect(tool.input).toBe(clinicToolInputs[tool.name as keyof typeof clinicToolInputs]);
      expect(tool.description.length).toBeGreaterThan(10);
      expect(tool.timeoutMs).toBeGreaterThan(0);
    }
  });

  it('seeds the schedule on construction', () => {
    expect((db.prepare('SELECT count(*) AS n FROM slots').get() as { n: number }).n).toBeGreaterThan(0);
  });

  it('does no work for a signal that has already aborted', async () => {
    const book = tools.find((tool) => tool.name === 'book_appointment');
    const run = book?.run(
      { name: 'Ada', phone: '5551234567', date: '2025-06-03', time: '09:30' },
      { signal: AbortSignal.abort(), callSid: 'CA1', from: '+15551234567' },
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect((db.prepare('SELECT count(*) AS n FROM bookings').get() as { n: number }).n).toBe(0);
  });
});
