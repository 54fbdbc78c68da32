/**
 * The Deepgram and ElevenLabs fakes in their own process (so their timers and sockets do not run on
 * the server's event loop), with the latencies the harness asks for. Every Deepgram utterance is
 * transcribed as `text`, or as what the bench last said it hears (`say`): the transcript is shared by
 * all the calls the fake serves.
 */
import { AnthropicFake } from '../testkit/fakes/anthropic-fake.js';
import { FakeDeepgram } from '../testkit/fakes/deepgram-fake.js';
import { FakeElevenLabs } from '../testkit/fakes/elevenlabs-fake.js';
import type { FakesOptions } from './children.js';


const options = JSON.parse(process.argv[2] ?? '{}') as FakesOptions;
const deepgram = await FakeDeepgram.start({
  apiKey: 'bench-dg',
  defaultBehavior: { resultLatencyMs: options.resultLatencyMs, finalizeLatencyMs: options.finalizeLatencyMs },
  idleTimeoutMs: 60_000,
});
// What the Deepgram fake "hears": `text` for every utterance (load benches), or what the bench sets
// before each utterance with `{command: 'say', text}` (bench:turns).
let heard = options.text;
deepgram.utteranceAt = () => ({ text: heard });
// The fake records everything it receives for assertions; a load run must not keep it.
const trim = setInterval(() => {
  for (const c of deepgram.connections) {
    c.audio.length = 0;
    c.sent.length = 0;
  }
}, 1000);
const elevenlabs = await FakeElevenLabs.start({ apiKey: 'bench-xi', msPerWord: options.msPerWord });
elevenlabs.latency.firstByteMs = options.ttsFirstByteMs;

// The LLM stage: the real Claude adapter talks to this fake; its first token comes after the budget.
const anthropic = options.llmFirstTokenMs === undefined ? null : await new AnthropicFake('bench-anthropic').start();
if (anthropic) {
  const words = (options.llmReply ?? 'OK.').split(/(?<= )/);
  anthropic.fallbackReply = {
    blocks: [{ type: 'text', chunks: words }],
    firstEventDelayMs: options.llmFirstTokenMs,
    usage: { input_tokens: 900, output_tokens: words.length, cache_read_input_tokens: 2500, cache_creation_input_tokens: 0 },
  };
  // Like the Deepgram fake, a load run must not keep every request it saw.
  setInterval(() => (anthropic.requests.length = 0), 1000).unref();
}

async function exit(): Promise<void> {
  clearInterval(trim);
  await Promise.race([Promise.all([deepgram.close(), elevenlabs.stop(), anthropic?.stop()]), new Promise((r) => setTimeout(r, 3000))]);
  process.exit(0);
}
process.on('message', (m: { id?: number; command: string; text?: string }) => {
  if (m.command === 'exit') return void exit();
  if (m.command === 'say') heard = m.text ?? '';
  process.send?.({ id: m.id, result: { deepgramConnections: deepgram.connections.length, elevenlabsConnections: elevenlabs.connections } });
});
process.on('disconnect', () => void exit());
process.send?.({ ready: { deepgramUrl: deepgram.url, elevenlabsUrl: elevenlabs.baseUrl, anthropicUrl: anthropic?.baseUrl } });

