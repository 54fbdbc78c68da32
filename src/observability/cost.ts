/**
 * Cost of a call from what each provider was used for, with the prices in the agent config.
 * Offline engines cost nothing; a stage that fell back to its offline engine stops costing.
 * Depends on nothing above observability: the prices are a plain interface, not the config schema.
 */

/** Unit prices, in `currency`. The agent config's `prices` section satisfies this. */
export interface Prices {
  currency: string;
  sttPerMinute: number;
  llmInputPerMTok: number;
  llmCachedInputPerMTok: number;
  llmOutputPerMTok: number;
  ttsPer1kChars: number;
}

export interface CallUsage {
  /** Audio streamed to a cloud recogniser, s. */
  sttSeconds: number;
  llmInputTokens: number;
  llmCachedInputTokens: number;
  llmCacheWriteTokens: number;
  llmOutputTokens: number;
  /** Characters sent to a cloud voice. */
  ttsCharacters: number;
}

export interface CallCost {
  currency: string;
  stt: number;
  llm: number;
  tts: number;
  total: number;
  /** Total over the call's duration, per minute. */
  perMinute: number;
}

export const emptyUsage = (): CallUsage => ({
  sttSeconds: 0,
  llmInputTokens: 0,
  llmCachedInputTokens: 0,
  llmCacheWriteTokens: 0,
  llmOutputTokens: 0,
  ttsCharacters: 0,
});

/** Cache writes cost 1.25× the input price (Anthropic's published ratio). */
const CACHE_WRITE_FACTOR = 1.25;

export function callCost(usage: CallUsage, prices: Prices, durationMinutes: number): CallCost {
  const stt = (usage.sttSeconds / 60) * prices.sttPerMinute;
  const llm =
    (usage.llmInputTokens * prices.llmInputPerMTok +
      usage.llmCachedInputTokens * prices.llmCachedInputPerMTok +
      usage.llmCacheWriteTokens * prices.llmInputPerMTok * CACHE_WRITE_FACTOR +
      usage.llmOutputTokens * prices.llmOutputPerMTok) /
    1_000_000;
  const tts = (usage.ttsCharacters / 1000) * prices.ttsPer1kChars;
  const total = stt + llm + tts;
  return {
    currency: prices.currency,
    stt: round6(stt),
    llm: round6(llm),
    tts: round6(tts),
    total: round6(total),
    perMinute: durationMinutes > 0 ? round6(total / durationMinutes) : 0,
  };
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
