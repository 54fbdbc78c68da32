/**
 * Deepgram + ElevenLabs fakes for bench:turns, in their own process. Unlike fakes-proc.ts the words
 * the Deepgram fake "hears" are set by the bench before each utterance (`{command: 'say', text}`),
 * with interim results as growing prefixes, like the live service while the caller speaks.
 */
import { FakeDeepgram } from '../testkit/fakes/deepgram-fake.js';
import { FakeElevenLabs } from '../testkit/fakes/elevenlabs-fake.js';

const options = JSON.parse(process.argv[2] ?? '{}') as { resultLatencyMs: number; finalizeLatencyMs: number; ttsFirstByteMs: number; msPerWord: number };
const deepgram = await FakeDeepgram.start({
  apiKey: 'bench-dg',
  defaultBehavior: { resultLatencyMs: options.resultLatencyMs, finalizeLatencyMs: options.finalizeLatencyMs },
  idleTimeoutMs: 60_000,
});
let current = '';
deepgram.utteranceAt = () => ({ text: current });
const trim = setInterval(() => {
  for (const c of deepgram.connections) {
    c.audio.length = 0;
    c.sent.length = 0;
  }
}, 1000);
const elevenlabs = await FakeElevenLabs.start({ apiKey: 'bench-xi', msPerWord: options.msPerWord });
elevenlabs.latency.firstByteMs = options.ttsFirstByteMs;

async function exit(): Promise<void> {
  clearInterval(trim);
  await Promise.race([Promise.all([deepgram.close(), elevenlabs.stop()]), new Promise((r) => setTimeout(r, 3000))]);
  process.exit(0);
}
process.on('message', (m: { id?: number; command: string; text?: string }) => {
  if (m.command === 'exit') return void exit();
  if (m.command === 'say') current = m.text ?? '';
  process.send?.({ id: m.id, result: null });
});
process.on('disconnect', () => void exit());
process.send?.({ ready: { deepgramUrl: deepgram.url, elevenlabsUrl: elevenlabs.baseUrl } });
