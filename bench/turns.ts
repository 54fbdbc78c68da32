/**
 * npm run bench:turns [-- --paths offline,cloud --variant default|fixed --concurrency 2]
 *
 * Turn-taking from the wire, with synthetic callers in voices other than the agent's (flite kal):
 * flite slt/rms (tuning set) and flite awb, espeak-ng en-us male and female (held out: reported
 * separately, never tuned on).
 * (a) short complete answers: wire TTFA (end of the caller's speech → first agent audio);
 * (b) a 500–900 ms pause after an unfinished phrase: premature replies (agent audio in the pause,
 *     or the phrase answered as a turn of its own);
 * (c) backchannels and noise bursts 1.5 s into the greeting: share of the greeting's audio the caller
 *     still hears (frames played ∩ an uninterrupted greeting), and the silence the clear left;
 * (d) real interruptions 1.5 s into the greeting: speech onset → `clear`, and wrongly kept talking.
 * Paths: offline engines; cloud = Deepgram + ElevenLabs fakes (flow brain). `--variant fixed`
 * turns adaptive endpointing and resuming off (the behaviour before issue 13) for comparison.
 * `--turn '{"completeSilenceMs":200}'` overrides `turn` settings of the agent config (to choose
 * defaults; such runs publish to their own results file and BENCHMARKS section).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMulaw } from '../src/media/mulaw.js';
import { parseWav, pcm16ToMulaw, wavPcm16 } from '../src/speech/audio-convert.js';
import { callerPcm, coughPcm, whiteNoise } from '../testkit/helpers/caller-audio.js';
import { BenchCaller, callerTurns, type Utterance } from './bench-caller.js';
import { Child, fetchRecord, type ServerProcOptions } from './children.js';
import { args, fmt, machine, machineLine, now, publish, sleep, stats, table } from './harness.js';

const cli = args();
const paths = cli.str('paths', 'offline,cloud').split(',') as Array<'offline' | 'cloud'>;
const variant = cli.str('variant', 'default');
const concurrency = cli.num('concurrency', 2);
const TUNING = ['flite:slt', 'flite:rms'];
const HELD_OUT = ['flite:awb', 'espeak:en-us', 'espeak:en-us+f3'];
/** `--voices slt,rms` (flite or espeak names) runs only those voices, for iterating; default all. */
const VOICES = [...TUNING, ...HELD_OUT].filter((v) => cli.str('voices', '') === '' || cli.str('voices', '').split(',').includes(v.split(':')[1]!));
/** `--cases a,b` runs only those cases (a–d); default all. `--all-backchannels`, `--all-interruptions`: (c), (d) with every sound / interruption per voice. */
const CASES = cli.str('cases', 'a,b,c,d').split(',');

// ---- caller audio -----------------------------------------------------------------------------

function voicePcm(text: string, voice: string): Int16Array {
  const [engine, name] = voice.split(':') as [string, string];
  if (engine === 'flite') return callerPcm(text, name, 0);
  const dir = mkdtempSync(join(tmpdir(), 'turns-voice-'));
  try {
    const file = join(dir, 'v.wav');
    execFileSync('espeak-ng', ['-v', name, '-s', '160', '-w', file, text]);
    const wav = parseWav(readFileSync(file));
    return resampleTo8k(wavPcm16(wav), wav.sampleRate);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Box-filtered resampling to 8 kHz: good enough for a caller voice on a phone line. */
function resampleTo8k(pcm: Int16Array, rate: number): Int16Array {
  const ratio = rate / 8000;
  const out = new Int16Array(Math.floor(pcm.length / ratio));
  for (let i = 0; i < out.length; i++) {
    const from = Math.floor(i * ratio);
    const to = Math.max(from + 1, Math.floor((i + 1) * ratio));
    let sum = 0;
    for (let k = from; k < to && k < pcm.length; k++) sum += pcm[k]!;
    out[i] = Math.round(sum / (to - from));
  }
  return out;
}

/** PCM pieces joined by silence gaps, over the line's −60 dBFS noise floor, as 20 ms μ-law frames. */
function utteranceOf(parts: Array<Int16Array | number>, label: string): Utterance {
  const total = parts.reduce<number>((n, p) => n + (typeof p === 'number' ? p * 8 : p.length), 0);
  const pcm = new Int16Array(total);
  let at = 0;
  for (const p of parts) {
    if (typeof p === 'number') at += p * 8;
    else {
      pcm.set(p, at);
      at += p.length;
    }
  }
  const noise = whiteNoise(pcm.length, -60, label.length);
  const mulaw = pcm16ToMulaw(pcm.map((s, i) => Math.max(-32768, Math.min(32767, s + noise[i]!))));
  const frames: Uint8Array[] = [];
  for (let i = 0; i < mulaw.length; i += 160) {
    const f = new Uint8Array(160).fill(0xff);
    f.set(mulaw.subarray(i, i + 160));
    frames.push(f);
  }
  const speech = frames.map((f) => decodeMulaw(f).reduce((s, x) => s + Math.abs(x), 0) / 160 > 1000);
  return { text: label, frames, speech };
}

/** The speech without the synthesiser's leading and trailing silence (20 ms frames below −55 dBFS mean level; the line noise is −60). */
function trimSilence(pcm: Int16Array): Int16Array {
  const level = (i: number) => pcm.subarray(i, i + 160).reduce((sum, x) => sum + Math.abs(x), 0) / 160;
  let start = 0;
  while (start < pcm.length && level(start) < 60) start += 160;
  let end = pcm.length;
  while (end > start && level(Math.max(start, end - 160)) < 60) end -= 160;
  return pcm.subarray(start, end);
}

const say = (text: string, voice: string) => utteranceOf([voicePcm(text, voice)], text);

// ---- cases ----------------------------------------------------------------------------------

const COMPLETE_SCRIPT = ['book an appointment', 'next tuesday', 'ten thirty a m', 'riley', 'yes'].slice(0, cli.num('answers', 5));
const PAUSES: Array<[string, string]> = [
  ['i would like to', 'book an appointment'],
  ['i want to', 'cancel my appointment'],
  ['can i', 'book an appointment please'],
];
const BACKCHANNELS = ['okay', 'uh huh', 'right', 'yeah', 'mm hmm'];
const INTERRUPTIONS = ['no', 'wait', 'cancel my appointment', 'what are your opening hours'];

interface Env { server: Child & { url: string }; fakes: Child | null }

function hear(env: Env, text: string): void {
  env.fakes?.proc.send({ id: 0, command: 'say', text });
}

const frameKeys = (audio: Buffer[]) => {
  const keys = new Set<string>();
  for (const chunk of audio) {
    for (let i = 0; i + 160 <= chunk.length; i += 160) {
      const f = chunk.subarray(i, i + 160);
      if (f.every((b) => b === 0xff)) continue;
      keys.add(f.toString('base64'));
    }
  }
  return keys;
};

/**
 * The agent has stopped: no audio for 800 ms and nothing played for 300 ms (the harness's quiet()
 * compares bytes received with bytes played, which a `clear` makes unequal for good).
 */
async function quiet(caller: BenchCaller, silentMs = 1500, timeoutMs = 60_000): Promise<void> {
  await caller.until(() => {
    const lastMedia = caller.mediaAt.at(-1);
    const lastPlayed = caller.twilio.played.at(-1)?.at ?? 0;
    return lastMedia !== undefined && now() - lastMedia > silentMs && Date.now() - lastPlayed > 300;
  }, timeoutMs, 'agent to finish speaking');
}

async function greeted(env: Env): Promise<BenchCaller> {
  const caller = new BenchCaller(env.server.url);
  await caller.start();
  await caller.mediaAfter(0, 30_000);
  return caller;
}

/** One answer's TTFA and where it went, from the call record (ms; null where a stage did not run). */
interface Breakdown { text: string; heard: string; wire: number; ttfa: number | null; endpoint: number | null; stt: number | null; brain: number | null; tts: number | null; grammarMs: number | null; openMs: number | null }

async function caseA(env: Env, voice: string) {
  const caller = await greeted(env);
  const ttfa: number[] = [];
  let stages: Breakdown[] = [];
  try {
    await quiet(caller);
    for (const text of COMPLETE_SCRIPT) {
      hear(env, text);
      const { lastSpeechAt } = await caller.say(say(text, voice));
      ttfa.push((await caller.mediaAfter(lastSpeechAt, 20_000)) - lastSpeechAt);
      await quiet(caller);
    }
  } finally {
    await caller.hangUp();
    const turns = callerTurns(await fetchRecord(env.server.url, caller.callSid));
    stages = turns.map((t, i) => ({
      text: COMPLETE_SCRIPT[i] ?? '', heard: t.text, wire: Math.round(ttfa[i] ?? NaN),
      ttfa: t.metrics.ttfaMs, endpoint: t.metrics.endpointMs, stt: t.metrics.sttMs, brain: t.metrics.llmFirstTokenMs, tts: t.metrics.ttsFirstByteMs,
      grammarMs: t.recognition?.grammar?.decodeMs ?? null, openMs: t.recognition?.open?.decodeMs ?? null,
    }));
  }
  return { ttfa, stages };
}

async function caseB(env: Env, voice: string, [first, rest]: [string, string], pauseMs: number) {
  const caller = await greeted(env);
  try {
    await quiet(caller);
    hear(env, first);
    // The synthesisers pad their audio with ~0.1–0.3 s of silence at each end: without trimming, a
    // "774 ms" pause was a 1.2 s one (runs before 03:50 on 2026-12-08 measured that).
    const [head, tail] = [trimSilence(voicePcm(first, voice)), trimSilence(voicePcm(rest, voice))];
    const u = utteranceOf([head, pauseMs, tail], `${first} … ${rest}`);
    const firstEnd = u.speech.lastIndexOf(true, Math.floor(head.length / 160));
    const started = now();
    const done = caller.say(u);
    // Switch what the cloud fake hears once the first part has been spoken.
    await sleep((firstEnd + 1) * 20 + 350);
    hear(env, rest);
    const { lastSpeechAt } = await done;
    const inPause = caller.mediaAt.some((t) => t > started && t < lastSpeechAt);
    await caller.mediaAfter(lastSpeechAt, 20_000).catch(() => 0);
    await quiet(caller).catch(() => undefined);
    await caller.hangUp();
    const record = await fetchRecord(env.server.url, caller.callSid);
    const turns = callerTurns(record).map((t) => t.text);
    return { premature: inPause || turns.length !== 1, turns };
  } catch (e) {
    await caller.hangUp();
    return { premature: true, turns: [`error: ${(e as Error).message}`] };
  }
}

async function overGreeting(env: Env, u: Utterance, hearText: string) {
  const caller = await greeted(env);
  const start = caller.mediaAt[0]!;
  await sleep(Math.max(0, start + 1500 - now()));
  hear(env, hearText);
  const { firstSpeechAt, lastSpeechAt } = await caller.say(u);
  let clearAt: number | null = null;
  try {
    clearAt = await caller.clearAfter(firstSpeechAt - 1, 2000);
  } catch {
    clearAt = null;
  }
  // Longer than the false-interruption window: a held reply resumes (or is dropped) within it.
  await quiet(caller, 3500).catch(() => undefined);
  const resumedAt = clearAt === null ? null : (caller.mediaAt.find((t) => t > clearAt!) ?? null);
  await caller.hangUp();
  const record = await fetchRecord(env.server.url, caller.callSid);
  return { caller, firstSpeechAt, lastSpeechAt, clearAt, resumedAt, record };
}

/** p50 of each stage of (a)'s answers, ms. */
function breakdown(rows: Breakdown[]) {
  const p50 = (key: keyof Breakdown) => stats(rows.flatMap((r) => (typeof r[key] === 'number' && Number.isFinite(r[key]) ? [r[key] as number] : []))).p50;
  return { wire: p50('wire'), ttfa: p50('ttfa'), endpoint: p50('endpoint'), stt: p50('stt'), brain: p50('brain'), tts: p50('tts'), grammarMs: p50('grammarMs'), openMs: p50('openMs') };
}

// ---- runner ---------------------------------------------------------------------------------

const failures: string[] = [];
/** Runs jobs n at a time; a failed job is reported and left out, never ends the run. */
async function pool<T>(jobs: Array<() => Promise<T>>, n: number): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < jobs.length) {
      const i = next++;
      try {
        out.push(await jobs[i]!());
      } catch (e) {
        failures.push((e as Error).message);
        console.log(`job failed: ${(e as Error).message}`);
      }
    }
  }));
  return out;
}

const turnJson = cli.str('turn', '');
const turnOverrides = {
  ...(variant === 'fixed' ? { adaptiveEndpointing: false, resumeFalseInterruptions: false } : {}),
  ...(turnJson ? (JSON.parse(turnJson) as Record<string, unknown>) : {}),
};

/** The shared machine can be slow to load the models: a longer start budget than the harness's. */
async function startServerSlow(options: ServerProcOptions): Promise<Child & { url: string }> {
  const child = await Child.start('server-proc.js', options, 240_000);
  return Object.assign(child, { url: child.info.url! });
}

async function runPath(path: 'offline' | 'cloud') {
  const fakes = path === 'cloud' ? await Child.start('fakes-proc.js', { text: '', resultLatencyMs: 30, finalizeLatencyMs: 30, ttsFirstByteMs: 120, msPerWord: 320 }, 240_000) : null;
  const env: Env = {
    fakes,
    server: await startServerSlow({
      engines: path,
      agent: { turn: turnOverrides, timeouts: { inactivityMs: 60_000 } },
      ...(fakes ? { env: { DEEPGRAM_API_KEY: 'bench-dg', DEEPGRAM_URL: fakes.info.deepgramUrl!, ELEVENLABS_API_KEY: 'bench-xi', ELEVENLABS_VOICE_ID: 'bench-voice', ELEVENLABS_BASE_URL: fakes.info.elevenlabsUrl! } } : {}),
    }),
  };
  const n = path === 'cloud' ? 1 : concurrency; // the cloud fake hears one scripted text at a time
  console.log(`${path}: server up (${env.server.info.engines})`);
  // Reference: an uninterrupted greeting (also warms the grammars and voices).
  const ref = await greeted(env);
  await quiet(ref);
  await ref.hangUp();
  const reference = frameKeys(ref.twilio.played.map((p) => p.audio));

  const group = (voice: string) => (TUNING.includes(voice) ? 'tuning' : 'held-out');
  const a = !CASES.includes('a') ? [] : await pool(VOICES.map((voice) => async () => ({ voice, ...(await caseA(env, voice)) })), n);
  console.log(`${path}: (a) done`);
  for (const r of a) for (const st of r.stages) console.log(`  (a) ${r.voice} ${JSON.stringify(st)}`);
  const b = !CASES.includes('b') ? [] : await pool(
    VOICES.flatMap((voice, vi) => PAUSES.slice(0, cli.num('pauses', 3)).map((p, pi) => async () => {
      const pauseMs = 500 + ((vi * 3 + pi) * 137) % 401;
      return { voice, pauseMs, ...(await caseB(env, voice, p, pauseMs)) };
    })),
    n,
  );
  console.log(`${path}: (b) done`);
  const cJobs = VOICES.flatMap((voice, vi) => [
    ...(cli.flag('all-backchannels') ? BACKCHANNELS : [BACKCHANNELS[vi % 5]!, BACKCHANNELS[(vi + 2) % 5]!]).map((text) => ({ voice, kind: 'backchannel', text, u: () => say(text, voice) })),
    { voice, kind: 'cough', text: '', u: () => utteranceOf([coughPcm(300 + vi * 60, vi + 1)], 'cough') },
  ]);
  const c = !CASES.includes('c') ? [] : await pool(cJobs.map((j) => async () => {
    const r = await overGreeting(env, j.u(), j.text);
    const heard = frameKeys(r.caller.twilio.played.map((p) => p.audio));
    const covered = [...reference].filter((k) => heard.has(k)).length / Math.max(1, reference.size);
    return {
      voice: j.voice, kind: j.kind, text: j.text,
      heardShare: Math.round(covered * 1000) / 10,
      cleared: r.clearAt !== null,
      gapMs: r.clearAt !== null && r.resumedAt !== null ? Math.round(r.resumedAt - r.clearAt) : null,
      sinceSpeechEndMs: r.resumedAt !== null && r.clearAt !== null ? Math.round(r.resumedAt - r.lastSpeechAt) : null,
      interrupted: (r.record?.bargeIns ?? 0) > 0,
    };
  }), n);
  console.log(`${path}: (c) done`);
  const d = !CASES.includes('d') ? [] : await pool(VOICES.flatMap((voice, vi) => (cli.flag('all-interruptions') ? INTERRUPTIONS : [INTERRUPTIONS[vi % 4]!, INTERRUPTIONS[(vi + 1) % 4]!]).map((text) => async () => {
    const r = await overGreeting(env, say(text, voice), text);
    const answered = callerTurns(r.record).length > 0;
    return {
      voice, text,
      onsetToClearMs: r.clearAt === null ? null : Math.round(r.clearAt - r.firstSpeechAt),
      keptTalking: r.clearAt === null || (r.record?.resumedReplies ?? 0) > 0 || !answered,
      heard: callerTurns(r.record).map((t) => t.text).join(' | '),
    };
  })), n);
  console.log(`${path}: (d) done`);
  await env.server.stop();
  await fakes?.stop();
  const by = <T extends { voice: string }>(rows: T[], g: string) => rows.filter((r) => group(r.voice) === g);
  const summary = (g: string) => {
    const cs = by(c, g);
    const ds = by(d, g);
    return {
      ttfa: stats(by(a, g).flatMap((r) => r.ttfa)),
      stages: breakdown(by(a, g).flatMap((r) => r.stages)),
      premature: `${by(b, g).filter((r) => r.premature).length}/${by(b, g).length}`,
      heardShare: stats(cs.map((r) => r.heardShare)),
      gap: stats(cs.flatMap((r) => (r.gapMs === null ? [] : [r.gapMs]))),
      wronglyInterrupted: `${cs.filter((r) => r.interrupted).length}/${cs.length}`,
      clear: stats(ds.flatMap((r) => (r.onsetToClearMs === null ? [] : [r.onsetToClearMs]))),
      keptTalking: `${ds.filter((r) => r.keptTalking).length}/${ds.length}`,
    };
  };
  return { path, referenceFrames: reference.size, tuning: summary('tuning'), heldOut: summary('held-out'), a, b, c, d };
}

const m0 = machine();
const results = [];
for (const path of paths) results.push(await runPath(path));
const m1 = machine();

const rows = results.flatMap((r) => (['tuning', 'heldOut'] as const).map((g) => {
  const s = r[g];
  return [`${r.path} (${g === 'tuning' ? 'slt, rms' : 'held out: awb, espeak ×2'})`, fmt(s.ttfa), s.premature, `${s.heardShare.p50} / ${s.heardShare.mean}`, fmt(s.gap), s.wronglyInterrupted, fmt(s.clear), s.keptTalking];
}));
const md = `## bench:turns ${paths.join(' + ')} (${variant === 'fixed' ? 'fixed endpointing, no resume: the behaviour before issue 13' : 'default agent config'}${turnJson ? `, turn ${turnJson}` : ''})

${machineLine(m0, m1)}. Shared 2-core machine with other helpers' builds and tests running: absolute
figures are pessimistic. Callers: flite slt/rms (tuning) and flite awb, espeak-ng en-us, en-us+f3 (held
out); agent voice flite kal (offline) or the ElevenLabs fake (cloud, Deepgram fake with 30 ms results).

${table(['path (voices)', '(a) wire TTFA p50 / p95 ms', '(b) premature replies', '(c) greeting heard % p50 / mean', '(c) silence left by clear p50 / p95 ms', '(c) recorded as interrupted', '(d) onset → clear p50 / p95 ms', '(d) wrongly kept talking'], rows)}

(a) ${COMPLETE_SCRIPT.length} complete answers per voice (menu request, date, time, name, yes). Where (a)'s time goes, p50 per stage from the call records (ms):
${results.flatMap((r) => (['tuning', 'heldOut'] as const).map((g) => {
  const s = r[g].stages;
  return `${r.path} ${g === 'tuning' ? 'tuning' : 'held out'}: wire ${s.wire} = server TTFA ${s.ttfa} (last word → endpoint ${s.endpoint}, → transcript ${s.stt}, → brain text ${s.brain}, → first TTS audio ${s.tts}); decode grammar ${s.grammarMs}, open ${s.openMs}.`;
})).join('\n')}
 (b) ${PAUSES.length} unfinished phrases per voice, pause 500–900 ms between the last sound of the phrase and the first of its rest (the voices' own padding trimmed).
Failed runs (left out): ${failures.length}${failures.length ? ` (${[...new Set(failures)].join('; ')})` : ''}.
(c) two backchannels and one cough-like burst per voice, 1.5 s into the greeting. (d) two interruptions per voice ("no", "wait", a request, a question).`;
console.log(`\n${md}`);
publish(`turns-${paths.join('-')}${variant === 'fixed' ? '-fixed' : ''}${turnJson ? '-override' : ''}`, { machine: { start: m0, end: m1 }, variant, results }, md);
process.exit(0);
