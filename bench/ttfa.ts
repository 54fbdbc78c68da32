/**
 * npm run bench:ttfa [-- --levels 1,50,200 --turns 3 --energy-vad]
 *
 * TTFA against the seed's stage budget, imposed by the provider fakes (separate process) that the real
 * Deepgram, Claude and ElevenLabs adapters talk to: endpointing 300 ms (our VAD's end-of-turn silence
 * and Deepgram's `endpointing`), STT final 150 ms after Finalize/endpoint, LLM first token 300 ms
 * (Anthropic Messages fake), TTS first byte 100 ms. Orchestration overhead = TTFA − 850 ms, per turn,
 * at each concurrency level.
 */
import { CRITICAL_MS, ENDPOINT_MS, LLM_MS, SEED_FAKES } from './seed-budget.js';
import { args, concurrentCalls, fmt, machine, machineLine, publish, startFakes, startServer, stats, table, utterance } from './harness.js';

const a = args();
const levels = a.list('levels', [1, 50, 200]);
const turns = a.num('turns', 3);
const energyVad = a.flag('energy-vad');

const m0 = machine();
const script = Array.from({ length: turns }, () => utterance('what is your address'));
const results = [];
for (const n of levels) {
  const fakes = await startFakes(SEED_FAKES);
  const server = await startServer({ engines: 'cloud', env: fakes.env, brainDelayMs: 0, energyVad, agent: { turn: { endSilenceMs: ENDPOINT_MS }, timeouts: { inactivityMs: 60_000 } } });
  const { calls, ...level } = await concurrentCalls(server, n, script, Math.min(2000, n * 20));
  await server.stop();
  await fakes.stop();
  const turnsOf = calls.flatMap((c) => (c.record?.turns ?? []).flatMap((t) => (t.role === 'caller' ? [t.metrics] : [])));
  // What TTFA holds beyond waiting: the VAD's silence window, the STT final, the LLM and TTS delays.
  const overhead = stats(turnsOf.flatMap((t) => (t.ttfaMs === null || t.endpointMs === null ? [] : [t.ttfaMs - t.endpointMs - (t.sttMs ?? 0) - LLM_MS - SEED_FAKES.ttsFirstByteMs])));
  const wireOverhead = stats(calls.flatMap((c) => c.wireTtfa.map((t) => t - CRITICAL_MS)));
  results.push({ ...level, overhead, wireOverhead });
  console.log(`${n}: ttfa ${fmt(level.summary.ttfa)}, overhead ${fmt(overhead)}, wire overhead ${fmt(wireOverhead)}, loop p99 ${level.loop.p99} ms, rss/call ${level.rssPerCallMb} MB, errors ${level.summary.errors} ${level.summary.errorSamples.join('; ')}`);
}
const m1 = machine();

const main = table(
  ['calls', 'turns', 'TTFA p50 / p95 (record)', 'orchestration overhead p50 / p95 (record)', 'TTFA p50 / p95 (wire)', 'TTFA − 850 p50 / p95 (wire)', 'loop delay p99 / max', 'server CPU', 'RSS MB / call', 'errors'],
  results.map((r) => [r.n, r.summary.turns, fmt(r.summary.ttfa), fmt(r.overhead), fmt(r.summary.wireTtfa), fmt(r.wireOverhead), `${r.loop.p99} / ${r.loop.max} ms`, `${r.cpuPercent} %`, r.rssPerCallMb, r.summary.errors]),
);
const stages = table(
  ['calls', `endpointMs (${ENDPOINT_MS})`, `sttMs (${SEED_FAKES.finalizeLatencyMs})`, `llmFirstTokenMs (${LLM_MS})`, `ttsFirstByteMs (${SEED_FAKES.ttsFirstByteMs})`],
  results.map((r) => [r.n, fmt(r.summary.endpoint), fmt(r.summary.stt), fmt(r.summary.llm), fmt(r.summary.tts)]),
);
const last = results.at(-1);
const md = `## TTFA and orchestration overhead (\`npm run bench:ttfa\`)

${machineLine(m0, m1)}.

Stage budget imposed from outside the server: end-of-turn silence ${ENDPOINT_MS} ms (\`turn.endSilenceMs\`, and the Deepgram adapter's
\`endpointing=300\`), Deepgram fake final ${SEED_FAKES.finalizeLatencyMs} ms after Finalize/endpoint, LLM first token ${LLM_MS} ms, ElevenLabs fake first
byte ${SEED_FAKES.ttsFirstByteMs} ms ⇒ critical path **${CRITICAL_MS} ms**. The LLM stage is the real Claude adapter (\`src/dialog/claude-brain.ts\`, streaming
through \`@anthropic-ai/sdk\`) against the Anthropic Messages fake, whose first token comes ${LLM_MS} ms after the request. VAD: ${energyVad ? 'energy VAD (`--energy-vad`)' : 'Silero (as `createEngines` builds it)'}.
Server, fakes and callers are three processes on the same machine. Each call: greeting, then ${turns} × “what is your address”
(real-time audio, −60 dBFS noise floor, playback in real time). 
- **overhead (record)** = \`ttfaMs − endpointMs − sttMs − ${LLM_MS} − ${SEED_FAKES.ttsFirstByteMs}\` per turn: the TTFA (VAD's last word → first frame
  sent) minus the waits the stages impose as they actually ran (the end-of-turn silence as the VAD counted it, in 32 ms windows; the
  wait for Deepgram's final after our end of turn — usually ≈ 0 because the fake's own 300 ms endpoint + 150 ms final lands inside our
  VAD's silence window; the LLM and TTS delays). What remains is orchestration: turn machine, the Claude SDK's request and SSE parsing, ElevenLabs
  socket round trip beyond the fake's delay, playout framing and the socket write.
- **overhead (wire)** = wire TTFA − ${CRITICAL_MS} ms, wire TTFA measured at the fake Twilio peer from the send time of the caller's last
  speech frame (energy rule) to the first agent frame received. It additionally holds Silero's hangover after the last word
  (≈ 100–150 ms with this voice), window quantisation, both sockets and the callers' own event loop.

${main}

Per-stage medians / p95 from the call records (the budget in brackets; each includes the hand-off into and out of that stage):

${stages}

Goals: overhead p95 ≤ 10 ms at 200 calls → ${last && last.n >= 200 ? (last.overhead.p95 <= 10 ? 'met' : `not met (record p95 ${last.overhead.p95} ms)`) : 'not run at 200'};
≤ 4 MB RSS per call → ${last ? (last.rssPerCallMb <= 4 ? 'met' : 'not met') : '–'} (${last?.rssPerCallMb} MB at ${last?.n} calls).

Reproduce: \`npm run bench:ttfa\` (flags: \`--levels 1,50,200 --turns 3 --energy-vad\`).`;
console.log('\n' + md);
publish(energyVad ? 'ttfa-energy-vad' : 'ttfa', { machine: m0, machineEnd: m1, fakes: SEED_FAKES, llmMs: LLM_MS, endpointMs: ENDPOINT_MS, criticalMs: CRITICAL_MS, energyVad, results }, md);
process.exit(0);
