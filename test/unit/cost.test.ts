import { describe, expect, it } from 'vitest';
import { pricesSchema } from '../../src/config/business-schema.js';
import { callCost, emptyUsage, type Prices } from '../../src/observability/cost.js';

const prices = { currency: 'USD', sttPerMinute: 0.0077, llmInputPerMTok: 3, llmCachedInputPerMTok: 0.3, llmOutputPerMTok: 15, ttsPer1kChars: 0.18 };

describe('call cost', () => {
  it.each([
    ['offline call', emptyUsage(), 2, { stt: 0, llm: 0, tts: 0, total: 0, perMinute: 0 }],
    ['two minutes of cloud STT', { ...emptyUsage(), sttSeconds: 120 }, 2, { stt: 0.0154, llm: 0, tts: 0, total: 0.0154, perMinute: 0.0077 }],
    [
      'tokens incl. cache reads and writes',
      { ...emptyUsage(), llmInputTokens: 1000, llmCachedInputTokens: 10_000, llmCacheWriteTokens: 2000, llmOutputTokens: 200 },
      1,
      { stt: 0, llm: 0.0165, tts: 0, total: 0.0165, perMinute: 0.0165 },
    ],
    ['1500 characters of cloud voice', { ...emptyUsage(), ttsCharacters: 1500 }, 3, { stt: 0, llm: 0, tts: 0.27, total: 0.27, perMinute: 0.09 }],
  ])('%s', (_name, usage, minutes, expected) => {
    expect(callCost(usage, prices, minutes)).toEqual({ currency: 'USD', ...expected });
  });
});

describe('prices', () => {
  it("the agent config's prices satisfy the cost module's Prices (checked by the compiler too)", () => {
    const fromConfig: Prices = pricesSchema.parse({});
    expect(callCost({ ...emptyUsage(), sttSeconds: 60 }, fromConfig, 1)).toMatchObject({ currency: 'USD', total: 0 });
  });
});
