/** The embedded adapters (SQLite + files under DATA_DIR) honour the same port rules as PostgreSQL. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../../../src/store/embedded/index.js';
import type { CallCommand, StateStore } from '../../../src/store/ports.js';
import { until } from '../../../testkit/helpers/process.js';

const day = '2031-03-04';

describe('embedded store', () => {
  let dir: string;
  let store: StateStore;
  let clock = 1_000_000;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'embedded-store-'));
    store = openEmbeddedStore({ dataDir: dir });
    clock = Date.now();
    await store.bookings.addSlots(['09:00', '09:30'].map((time) => ({ date: day, time })));
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports booking outcomes as results: taken, unknown slot, not found', async () => {
    const first = await store.bookings.book({ name: 'Ada', phone: '5551110000', date: day, time: '09:00' });
    expect(first.ok).toBe(true);
    expect(await store.bookings.book({ name: 'Bob', phone: '5552220000', date: day, time: '09:00' })).toMatchObject({ ok: false, code: 'slot-taken' });
    expect(await store.bookings.book({ name: 'Bob', phone: '5552220000', date: day, time: '08:00' })).toMatchObject({ ok: false, code: 'no-such-slot' });
    expect(await store.bookings.cancel('000000x')).toMatchObject({ ok: false, code: 'not-found' });
    expect(await store.bookings.freeSlots(day)).toEqual(['09:30']);
    expect(await store.bookings.addSlots([{ date: day, time: '09:00' }, { date: day, time: '10:00' }])).toBe(1);
  });

  it('writes call records as 0600 files and reads them back', async () => {
    const record = { callSid: 'CAfile', endedAt: null } as never;
    await store.callRecords.save(record);
    expect(await store.callRecords.get('CAfile')).toMatchObject({ callSid: 'CAfile' });
    expect(statSync(join(dir, 'calls', 'CAfile.json')).mode & 0o777).toBe(0o600);
    expect(await store.callRecords.get('../etc/passwd')).toBeUndefined();
  });

  it('claims, refuses a duplicate, and reaps an expired lease', async () => {
    const call = { callSid: 'CA1', streamSid: 'MZ1', workerId: 'w:1', machine: 'w', startedAt: new Date(clock).toISOString(), state: 'live' as const };
    expect(await store.liveCalls.claim(call, 60_000)).toEqual({ claimed: true });
    expect(await store.liveCalls.claim({ ...call, workerId: 'w:2' }, 60_000)).toMatchObject({ claimed: false, holder: { workerId: 'w:1' } });
    await store.liveCalls.claim({ ...call, callSid: 'CA2', workerId: 'w:3' }, 20);
    await new Promise((r) => setTimeout(r, 50));
    expect((await store.liveCalls.list()).map((c) => c.callSid)).toEqual(['CA1']);
    expect((await store.liveCalls.reapExpired()).map((c) => c.callSid)).toEqual(['CA2']);
    await store.liveCalls.release('CA1', 'w:1');
    expect(await store.liveCalls.list()).toEqual([]);
  });

  it('delivers a command to the local subscriber and keeps it pending until completed', async () => {
    const got: CallCommand[] = [];
    const stop = await store.commands.subscribe('w:1', (command) => got.push(command));
    const issued = await store.commands.issue({ callSid: 'CA1', workerId: 'w:1', kind: 'hangup' });
    await store.commands.issue({ callSid: 'CA9', workerId: 'w:9', kind: 'hangup' });
    await until(() => got.length === 1, 'the command');
    expect(got[0]?.id).toBe(issued.id);
    await store.commands.complete(issued.id, 'done');
    expect(await store.commands.pending('w:1')).toEqual([]);
    await stop();
  });

  it('keeps documents with expiry', async () => {
    await store.documents.put('transfer', 'CA1', { state: 'ringing' });
    await store.documents.put('transfer', 'CA2', { state: 'old' }, new Date(Date.now() - 1));
    expect(await store.documents.get('transfer', 'CA1')).toEqual({ state: 'ringing' });
    expect(await store.documents.list('transfer')).toHaveLength(1);
  });
});
