/**
 * The seed's stage budget, imposed on the cloud path by the provider fakes (bench:ttfa, bench:load):
 * end-of-turn silence 300 ms (our VAD and Deepgram's `endpointing`), Deepgram final 150 ms after
 * Finalize/endpoint, LLM first token 300 ms, TTS first byte 100 ms ⇒ an 850 ms critical path.
 */
import type { FakesOptions } from './harness.js';

export const ENDPOINT_MS = 300;
export const LLM_MS = 300;
export const SEED_FAKES: FakesOptions = {
  text: 'What is your address?',
  resultLatencyMs: 150,
  finalizeLatencyMs: 150,
  ttsFirstByteMs: 100,
  msPerWord: 60,
  llmFirstTokenMs: LLM_MS,
  llmReply: 'Our address is 42 Maple Street, Springfield, next to the public library.',
};
export const CRITICAL_MS = ENDPOINT_MS + SEED_FAKES.finalizeLatencyMs + LLM_MS + SEED_FAKES.ttsFirstByteMs;
