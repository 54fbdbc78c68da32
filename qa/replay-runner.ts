/**
 * Replays fixtures and checks their expectations: the API behind `npm run replay` and the vitest
 * suite. In process by default (the real offline engines, each call set up like its recording:
 * pinned clock, agent overrides, seeded bookings), or against a running server given `url`
 * (which then must have the same agent config, date and bookings for the expectations to hold).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AgentConfig } from '../src/config/agent-schema.js';
import type { CallRecord } from '../src/store/call-record.js';
import { checkExpectations, type Expectations } from './expectations.js';
import { findFixtureDirs, loadFixture } from '../src/recording/fixture-format.js';
import { InProcessServer } from './in-process-server.js';
import { buildReport, conversationWav, type FixtureReport } from './replay-report.js';
import { replayFixture, type ReplayOptions } from './replay.js';

export interface RunReplaysOptions {
  /** Fixture folders, or folders of fixtures. */
  paths: string[];
  pace: 'realtime' | 'max';
  /** A running server's media WebSocket; in-process when absent. */
  url?: string;
  /** Agent config for the in-process server. */
  agent?: AgentConfig;
  /** Reuse this in-process server (left running); otherwise one is started and closed. */
  server?: InProcessServer;
  /** Where to write `<fixture>.json` and `<fixture>.wav`; nothing is written when absent. */
  outDir?: string;
  logger?: Logger;
  onProgress?: (fixture: string, progress: Parameters<NonNullable<ReplayOptions['onProgress']>>[0]) => void;
  onReport?: (report: FixtureReport) => void;
}

export function listFixtures(paths: string[]): string[] {
  return paths.flatMap((p) => findFixtureDirs(p, (d) => readdirSync(d)));
}

export async function runReplays(options: RunReplaysOptions): Promise<FixtureReport[]> {
  const dirs = listFixtures(options.paths);
  if (dirs.length === 0) throw new Error(`no fixtures (folders with events.jsonl) under ${options.paths.join(', ')}`);
  let server: InProcessServer | null = options.server ?? null;
  if (!options.url && !server) {
    if (!options.agent) throw new Error('an agent config is needed to replay in process');
    server = await InProcessServer.start({ agent: options.agent, ...(options.logger ? { logger: options.logger } : {}) });
  }
  const reports: FixtureReport[] = [];
  try {
    for (const dir of dirs) {
      const fixture = loadFixture(dir);
      let url = options.url ?? '';
      let fetchRecord: ReplayOptions['fetchRecord'] = httpRecordSource(url);
      if (server) {
        await server.prepare({
          clockAtStart: fixture.header.clockAtStart,
          ...(fixture.header.agentOverrides ? { agentOverrides: fixture.header.agentOverrides } : {}),
          ...(fixture.header.seedBookings ? { seedBookings: fixture.header.seedBookings } : {}),
        });
        url = server.wsUrl;
        fetchRecord = server.fetchRecord;
      }
      const outcome = await replayFixture(fixture, {
        url,
        pace: options.pace,
        fetchRecord,
        ...(options.onProgress ? { onProgress: (p) => options.onProgress!(fixture.name, p) } : {}),
      });
      const misses = fixture.expect ? checkExpectations(fixture.expect as Expectations, outcome.record) : [];
      const report = buildReport(outcome, options.pace, misses);
      if (options.outDir) {
        mkdirSync(options.outDir, { recursive: true });
        writeFileSync(join(options.outDir, `${fixture.name}.json`), JSON.stringify({ ...report, record: outcome.record }, null, 2));
        writeFileSync(join(options.outDir, `${fixture.name}.wav`), conversationWav(outcome));
      }
      options.onReport?.(report);
      reports.push(report);
    }
  } finally {
    if (server !== options.server) await server?.close();
  }
  return reports;
}

/** `GET /calls/:callSid` on the server behind a media URL (loopback callers need no token). */
function httpRecordSource(mediaUrl: string): ReplayOptions['fetchRecord'] {
  const base = mediaUrl.replace(/^ws/, 'http').replace(/\/media\/?$/, '');
  return async (callSid) => {
    const response = await fetch(`${base}/calls/${encodeURIComponent(callSid)}`);
    if (response.status !== 200) return undefined;
    return (await response.json()) as CallRecord;
  };
}
