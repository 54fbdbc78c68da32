/**
 * npm run bench:offline [-- --calls 2 --idle 10 --idle-seconds 10 --levels 4,8,16,32 --budget-s 150]
 *
 * Full offline turns through the media WebSocket (Silero VAD, pocketsphinx, flow brain, flite, all
 * in a server child process), caller audio (flite `rms`) streamed in real time:
 * 1. single calls one after another: TTFA from the call record and on the wire, endpoint, STT, TTS;
 * 2. N idle-listening streams: server process CPU per second of streamed audio (VAD + frame path);
 * 3. ramp of concurrent calls until TTFA p95 exceeds 2× the single-call p95, errors appear, or the
 *    time budget is spent.
 */
import { args, fmt, machine, machineLine, publish, sleep, table } from './harness.js';
import { resetStats, serverStats, startServer } from './children.js';
import { BenchCaller, concurrentCalls, scriptedCall, summarize, utterance } from './bench-caller.js';

const a = args();
const singleCalls = a.num('calls', 2);
const idleStreams = a.num('idle', 10);
const idleSeconds = a.num('idle-seconds', 10);
const levels = a.list('levels', [4, 8, 16, 32]);
const budgetMs = a.num('budget-s', 150) * 1000;
const SCRIPT = ['book an appointment', 'tuesday', 'ten a m'];

const m0 = machine();
const script = SCRIPT.map(utterance);
const energyVad = a.flag('energy-vad');
const server = await startServer({ engines: 'offline', energyVad, agent: { timeouts: { inactivityMs: 60_000 } } });
const started = Date.now();
console.log(`server up (${server.info.engines}); ${machineLine(m0)}`);

// 1. Single calls.
const single = [];
for (let i = 0; i < singleCalls; i++) single.push(await scriptedCall(server.url, script));
const one = summarize(single);
console.log(`single: ttfa ${fmt(one.ttfa)}, wire ${fmt(one.wireTtfa)}, errors ${one.errors}`);

// 2. Idle-listening streams: CPU per stream.
await resetStats(server);
await sleep(5000);
const idle0 = await serverStats(server);
const baselineCpuPerS = (idle0.cpuUserMs + idle0.cpuSystemMs) / (idle0.wallMs / 1000);
const callers = Array.from({ length: idleStreams }, () => new BenchCaller(server.url));
await Promise.all(callers.map(async (c) => (await c.start(), await c.quiet(60_000))));
await resetStats(server);
await sleep(idleSeconds * 1000);
const idle = await serverStats(server);
await Promise.all(callers.map((c) => c.hangUp()));
const idleCpuMs = idle.cpuUserMs + idle.cpuSystemMs - baselineCpuPerS * (idle.wallMs / 1000);
const cpuPerStreamPct = Math.round((idleCpuMs / (idleStreams * idle.wallMs)) * 100 * 1000) / 1000;
console.log(`idle: ${idleStreams} streams, ${cpuPerStreamPct} % of a core per stream (baseline ${Math.round(baselineCpuPerS)} ms/s)`);

// 3. Ramp.
const limit = 2 * one.ttfa.p95;
const ramp = [];
let stopReason = 'all levels done';
for (const n of levels) {
  if (Date.now() - started > budgetMs) {
    stopReason = `time budget (${budgetMs / 1000} s) spent`;
    break;
  }
  const level = await concurrentCalls(server, n, script);
  ramp.push(level);
  const s = level.summary;
  console.log(`${n} concurrent: ttfa ${fmt(s.ttfa)}, wire ${fmt(s.wireTtfa)}, loop p99 ${level.loop.p99} ms, cpu ${level.cpuPercent} %, errors ${s.errors}`);
  if (s.errors > 0) {
    stopReason = `errors at ${n} calls`;
    break;
  }
  if (s.ttfa.p95 > limit) {
    stopReason = `TTFA p95 ${s.ttfa.p95} ms > 2 × single-call p95 (${limit} ms) at ${n} calls`;
    break;
  }
}
await server.stop();
const m1 = machine();

const held = ramp.filter((l) => l.summary.errors === 0 && l.summary.ttfa.p95 <= limit).at(-1)?.n ?? 1;
const stageTable = table(
  ['measure (ms)', 'p50', 'p95', 'max', 'n'],
  [
    ['TTFA, call record (VAD last word → first frame sent)', one.ttfa.p50, one.ttfa.p95, one.ttfa.max, one.ttfa.n],
    ['TTFA, wire (last speech frame sent → first agent frame received)', one.wireTtfa.p50, one.wireTtfa.p95, one.wireTtfa.max, one.wireTtfa.n],
    ['endpoint (last word → end of turn)', one.endpoint.p50, one.endpoint.p95, one.endpoint.max, one.endpoint.n],
    ['decode, sttMs (end of turn → transcript)', one.stt.p50, one.stt.p95, one.stt.max, one.stt.n],
    ['brain first text, llmFirstTokenMs', one.llm.p50, one.llm.p95, one.llm.max, one.llm.n],
    ['TTS first audio, ttsFirstByteMs', one.tts.p50, one.tts.p95, one.tts.max, one.tts.n],
  ],
);
const rampTable = table(
  ['concurrent calls', 'turns', 'TTFA p50 / p95 (record)', 'TTFA p50 / p95 (wire)', 'STT p50 / p95', 'loop lag p99 / max', 'server CPU', 'errors'],
  ramp.map((l) => [l.n, l.summary.turns, fmt(l.summary.ttfa), fmt(l.summary.wireTtfa), fmt(l.summary.stt), `${l.loop.p99} / ${l.loop.max} ms`, `${l.cpuPercent} %`, l.summary.errors]),
);
const md = `## Offline turns (\`npm run bench:offline\`)

${machineLine(m0, m1)}.

Server (child process): \`createEngines\` offline default — Silero VAD, pocketsphinx pool (2 decoders), flow brain, flite \`kal\` —
with \`config/agent.yaml\` (\`turn.endSilenceMs\` 600) and \`timeouts.inactivityMs\` raised to 60 s. Callers (this process): flite \`rms\`
through μ-law, 20 ms frames on a real-time schedule, noise at −60 dBFS between utterances, agent audio played back in real time
(marks echoed as played). Script per call: greeting, then ${SCRIPT.map((s) => `“${s}”`).join(', ')}, each once the agent is quiet.

**Single calls** (${singleCalls} calls one after another, ${one.turns} turns, ${one.misheard} not recognised as speech):

${stageTable}

TTFA includes the configured end-of-turn silence (600 ms): goal p50 ≤ 700 ms → ${one.ttfa.p50 <= 700 ? 'met' : 'not met'} (p50 ${one.ttfa.p50} ms).

**Idle listening:** ${idleStreams} streams after their greeting, ${idleSeconds} s: server process CPU ${cpuPerStreamPct} % of one core per stream
(whole inbound path: WebSocket + JSON + base64 + μ-law decode + Silero + STT buffering; idle-server baseline ${Math.round(baselineCpuPerS)} ms CPU/s subtracted).
Silero alone measured ≈ 1.1 % per stream in \`bench/results/offline-engines.json\`.

**Concurrency ramp** (all calls start within 1 s; same script; stop rule: TTFA p95 > 2 × single-call p95 = ${limit} ms, or errors):

${rampTable}

Stopped: ${stopReason}. Highest level within the rule: **${held} concurrent calls**. The callers run on the same 2 cores (and the machine
is shared with other work — see the load average), so these are lower bounds for a dedicated host.

Reproduce: \`npm run bench:offline\` (flags: \`--calls 2 --idle 10 --idle-seconds 10 --levels 4,8,16,32 --budget-s 150\`).`;
console.log('\n' + md);
publish('offline', { machine: m0, machineEnd: m1, single: one, singleCalls: single.map((c) => ({ wireTtfa: c.wireTtfa, error: c.error, turns: c.record?.turns })), idle: { streams: idleStreams, seconds: idleSeconds, cpuPerStreamPct, baselineCpuPerS, raw: idle }, ramp: ramp.map(({ calls, ...rest }) => rest), stopReason, held }, md);
process.exit(0);
