/**
 * npm run bench:load [-- --levels 10,50 | --all] [--modes offline,cloud] [--turns 2]
 *
 * N concurrent replayed calls against one server (a fresh server child per level, so RSS is clean):
 * (a) offline engines, (b) the Deepgram + ElevenLabs adapters against the fakes, which run in a third
 * process. Callers stream real-time audio and play our audio back in real time. Per level: TTFA
 * (record and wire), event-loop delay of the server, server CPU, RSS growth per call, errors.
 */
import type { Child, FakesOptions } from './harness.js';
import { args, concurrentCalls, fmt, machine, machineLine, publish, startFakes, startServer, utterance } from './harness.js';

const a = args();
const levels = a.flag('all') ? [10, 50, 100, 200] : a.list('levels', [10, 50]);
const modes = a.str('modes', 'offline,cloud').split(',') as Array<'offline' | 'cloud'>;
const turns = a.num('turns', 2);
const TEXT = 'what is your address';
/** The seed's stage budget for the providers (no LLM delay here: the flow brain answers). */
const FAKES: FakesOptions = { text: 'What is your address?', resultLatencyMs: 150, finalizeLatencyMs: 150, ttsFirstByteMs: 100, msPerWord: 60 };

const m0 = machine();
/** Offline: the booking opening (recognised reliably by the per-state grammars; the address answer is long and
 * spoken in several flite sentences whose gaps read as "agent done" to the caller). Cloud: the fake transcribes every utterance
 * as the address question, since its transcript cursor is shared by all calls. */
const OFFLINE_SCRIPT = ['book an appointment', 'tuesday', 'ten a m'];
const scriptFor = (mode: string) => (mode === 'offline' ? OFFLINE_SCRIPT.slice(0, turns).map(utterance) : Array.from({ length: turns }, () => utterance(TEXT)));
const results: Array<{ mode: string } & Omit<Awaited<ReturnType<typeof concurrentCalls>>, 'calls'>> = [];
for (const mode of modes) {
  for (const n of levels) {
    let fakes: (Child & { env: Record<string, string> }) | null = null;
    if (mode === 'cloud') fakes = await startFakes(FAKES);
    const server = await startServer({ engines: mode, env: fakes?.env ?? {}, agent: { timeouts: { inactivityMs: 60_000 } } });
    const { calls, ...level } = await concurrentCalls(server, n, scriptFor(mode), 2000);
    await server.stop();
    await fakes?.stop();
    results.push({ mode, ...level });
    const s = level.summary;
    console.log(`${mode} ${n}: ttfa ${fmt(s.ttfa)}, wire ${fmt(s.wireTtfa)}, loop p99 ${level.loop.p99} ms, cpu ${level.cpuPercent} %, rss/call ${level.rssPerCallMb} MB, errors ${s.errors} ${s.errorSamples.join('; ')}`);
  }
}
const m1 = machine();

const rows = results.map((r) => [
  r.mode === 'offline' ? 'offline' : 'Deepgram + ElevenLabs fakes',
  r.n,
  r.summary.turns,
  fmt(r.summary.ttfa),
  fmt(r.summary.wireTtfa),
  fmt(r.summary.stt),
  `${r.loop.p50} / ${r.loop.p99} / ${r.loop.max}`,
  `${r.cpuPercent} %`,
  `${r.rssBeforeMb} → ${r.maxRssMb}`,
  r.rssPerCallMb,
  r.summary.errors + (r.summary.errorSamples.length ? ` (${r.summary.errorSamples[0]})` : ''),
]);
const md = `## Load (\`npm run bench:load\`)

${machineLine(m0, m1)}.

One server child process per level (offline: Silero VAD, pocketsphinx ×2, flow brain, flite; cloud: the real Deepgram and
ElevenLabs adapters against the fakes in a separate process — Deepgram fake results 150 ms after endpoint/Finalize, ElevenLabs
fake first byte 100 ms, 60 ms of audio per word). Callers in the bench process: calls start spread over 2 s, greeting, then
offline ${OFFLINE_SCRIPT.slice(0, turns).map((t) => `“${t}”`).join(', ')} / cloud ${turns} × “${TEXT}” (flite \`rms\`, real time, −60 dBFS noise floor), each once the agent is quiet; agent audio played back in real time.
\`config/agent.yaml\` (\`turn.endSilenceMs\` 600), \`timeouts.inactivityMs\` 60 s. Server CPU is % of one core over the level's wall time
(2 cores = 200 %). Event-loop delay: \`monitorEventLoopDelay\` (10 ms resolution) in the server, beyond the 10 ms interval. RSS per call = (peak RSS during the level − RSS before) / N.

| engines | calls | turns | TTFA p50 / p95 ms (record) | TTFA p50 / p95 ms (wire) | STT (sttMs) p50 / p95 | loop delay p50 / p99 / max ms | server CPU | RSS MB before → peak | RSS MB / call | errors |
|---|---|---|---|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

The callers (${Math.max(...levels)} paced WebSocket peers at 50 frames/s each) and, for the cloud rows, the fakes share the same 2 cores with the
server, and the machine runs other work (load average above): on a dedicated host the server gets more of the CPU than here.

Reproduce: \`npm run bench:load\` (default levels 10, 50; \`--all\` for 10, 50, 100, 200; \`--levels 10,100\`; \`--modes offline\`; \`--turns 2\`).`;
console.log('\n' + md);
publish('load', { machine: m0, machineEnd: m1, fakes: FAKES, results }, md);
process.exit(0);
