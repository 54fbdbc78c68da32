/** The lease reaper: a lost worker's calls leave the registry and their records end as `worker-lost`. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkerCalls } from '../../../src/cluster/worker-calls.js';
import type { CallRecord } from '../../../src/store/call-record.js';
import { openEmbeddedStore } from '../../../src/store/embedded/index.js';
import type { StateStore } from '../../../src/store/ports.js';

const nobodyHere = { has: () => false, hangup: () => false, transfer: () => false };

describe('lease reaper', () => {
  let dir: string;
  let store: StateStore;
  const worker = (pid: number) => new WorkerCalls({ store, logger: pino({ level: 'silent' }), local: nobodyHere, leaseMs: 40, machine: 'test-host', pid });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reaper-'));
    store = openEmbeddedStore({ dataDir: dir });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const loseCall = async (callSid: string) => {
    // Claimed by a worker that then dies: no heartbeat renews the lease.
    expect(await worker(1001).claim({ callSid, streamSid: `MZ${callSid}`, startedAt: '2031-03-04T09:00:00.000Z' })).toEqual({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 80));
  };

  it('writes a record from the registry row when the worker died before the start snapshot landed', async () => {
    await loseCall('CAnosnapshot');
    expect(await store.callRecords.get('CAnosnapshot')).toBeUndefined();
    expect((await worker(1002).reap()).map((c) => c.callSid)).toEqual(['CAnosnapshot']);
    expect(await store.callRecords.get('CAnosnapshot')).toMatchObject({
      callSid: 'CAnosnapshot',
      streamSid: 'MZCAnosnapshot',
      startedAt: '2031-03-04T09:00:00.000Z',
      endedAt: expect.any(String),
      endReason: 'worker-lost',
      turns: [],
      streamEvents: [expect.objectContaining({ event: 'worker-lost', error: expect.stringContaining('test-host:1001') })],
    });
    expect(await store.liveCalls.list()).toEqual([]);
  });

  it('closes an open record as worker-lost and leaves a finished one alone', async () => {
    const open = { callSid: 'CAopen', streamSid: 'MZ1', startedAt: '2031-03-04T09:00:00.000Z', endedAt: null, endReason: null, turns: [{ role: 'agent', text: 'Hello' }] } as unknown as CallRecord;
    await store.callRecords.save(open);
    await store.callRecords.save({ ...open, callSid: 'CAdone', endedAt: '2031-03-04T09:05:00.000Z', endReason: 'caller-hangup' });
    await loseCall('CAopen');
    await loseCall('CAdone');
    await worker(1002).reap();
    expect(await store.callRecords.get('CAopen')).toMatchObject({ endReason: 'worker-lost', turns: [{ text: 'Hello' }] });
    expect(await store.callRecords.get('CAdone')).toMatchObject({ endReason: 'caller-hangup', endedAt: '2031-03-04T09:05:00.000Z' });
  });
});
