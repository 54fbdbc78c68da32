/**
 * Records the fixture calls (qa/fixture-scenarios.ts) through the real server with recording
 * enabled, and saves each as test/fixtures/calls/<name>/ (events.jsonl, record.json, expect.json).
 * The agent's outbound audio is not kept: replays compare what the server does now, and the caller
 * side is what a fixture must preserve.
 *
 *   npm run make-fixtures [-- name …] [--out dir]
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// The environment is read by config loading only (AGENT_CONFIG and its default live there).
import { loadServerConfig } from '../../src/config/env.js';
import { loadAgentConfig } from '../../src/config/load-agent-config.js';
import { checkExpectations, type Expectations } from '../expectations.js';
import { compactEvents } from '../compact-fixture.js';
import type { FixtureEvent, FixtureHeader } from '../../src/recording/fixture-format.js';
import { CLINIC_NUMBER, PINNED_CLOCK, keyArgsOf, scenarios, type Scenario } from '../fixture-scenarios.js';
import { InProcessServer } from '../in-process-server.js';
import { LiveCaller } from '../live-caller.js';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import type { CallRecord, CallerTurn } from '../../src/store/call-record.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const outDir = outIndex >= 0 ? (args[outIndex + 1] ?? 'test/fixtures/calls') : 'test/fixtures/calls';
  const names = args.filter((a, i) => !a.startsWith('--') && (outIndex < 0 || i !== outIndex + 1));
  const chosen = names.length > 0 ? scenarios.filter((s) => names.includes(s.name)) : scenarios;
  if (chosen.length === 0) throw new Error(`no scenario named ${names.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);

  const server = await InProcessServer.start({ agent: loadAgentConfig(loadServerConfig(process.env).agentConfigPath) });
  let failed = 0;
  try {
    for (const scenario of chosen) {
      const started = Date.now();
      try {
        const misses = await record(server, scenario, outDir);
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        if (misses.length === 0) console.log(`✓ ${scenario.name} (${secs} s)`);
        else {
          failed++;
          console.log(`✗ ${scenario.name} (${secs} s): the recording misses its own expectations:\n  ${misses.join('\n  ')}`);
        }
      } catch (error) {
        failed++;
        console.log(`✗ ${scenario.name}: ${(error as Error).message}`);
      }
    }
  } finally {
    await server.close();
  }
  process.exit(failed > 0 ? 1 : 0);
}

async function record(server: InProcessServer, scenario: Scenario, outDir: string): Promise<string[]> {
  await server.prepare({
    clockAtStart: PINNED_CLOCK,
    ...(scenario.agentOverrides ? { agentOverrides: scenario.agentOverrides } : {}),
    ...(scenario.seedBookings ? { seedBookings: scenario.seedBookings } : {}),
    // Synthetic callers: keep their audio so the fixture replays.
    recording: { enabled: true, maskCallerAudio: false },
  });
  const sim = new FakeTwilioCaller({ url: server.wsUrl, playback: 'media-clock', pace: 'realtime', from: scenario.from, to: CLINIC_NUMBER });
  await sim.start();
  const caller = new LiveCaller(sim, () => server.context.calls.session(sim.callSid));
  const driving = sim.drive(caller.next);
  try {
    await caller.agentDone('the greeting');
    await scenario.run(caller);
    await driving;
    if (!sim.isClosed) sim.close();
    await sim.closed();
  } finally {
    sim.close();
  }
  await server.flush();

  const source = join(server.dataDir, 'recordings', sim.callSid);
  const target = join(outDir, scenario.name);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const [headerLine, ...lines] = readFileSync(join(source, 'events.jsonl'), 'utf8').split('\n');
  const header = JSON.parse(headerLine ?? '{}') as FixtureHeader;
  header.description = scenario.description;
  if (scenario.agentOverrides) header.agentOverrides = scenario.agentOverrides;
  if (scenario.seedBookings) header.seedBookings = scenario.seedBookings;
  const events = compactEvents(lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as FixtureEvent));
  writeFileSync(join(target, 'events.jsonl'), [header, ...events].map((e) => JSON.stringify(e)).join('\n') + '\n');
  copyFileSync(join(source, 'record.json'), join(target, 'record.json'));
  const callRecord = JSON.parse(readFileSync(join(source, 'record.json'), 'utf8')) as CallRecord;
  const expect = expectationsFrom(scenario, callRecord);
  writeFileSync(join(target, 'expect.json'), JSON.stringify(expect, null, 2) + '\n');
  return checkExpectations(expect, callRecord);
}

/** The scenario's own checks plus what the recording did, so a replay must do the same. */
function expectationsFrom(scenario: Scenario, record: CallRecord): Expectations {
  const keys = keyArgsOf(scenario);
  return {
    callerTexts: record.turns.filter((t): t is CallerTurn => t.role === 'caller').map((t) => t.text),
    toolCalls: record.toolCalls.map((call) => ({
      name: call.name,
      args: Object.fromEntries(Object.entries(call.args).filter(([key]) => keys.includes(key))),
      ok: call.ok,
    })),
    // Booking ids are random per run; the rest of the slots must come out the same.
    slots: Object.fromEntries(Object.entries(record.slots).filter(([slot]) => slot !== 'bookingId')),
    ...(record.endReason ? { endReason: record.endReason } : {}),
    // Offline engines on a 2-core machine answer in about a second even at --speed max beside other tests; a regression shows up as a miss.
    ttfaBudgetMs: 4000,
    ...scenario.expect,
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
