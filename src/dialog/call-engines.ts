/** What a call session runs on: its engines (chosen at startup) and its socket to Twilio. */
import type { Vad } from '../media/vad/vad.js';
import type { CallUsage } from '../observability/cost.js';
import type { FallbackListener } from '../observability/fallback.js';
import type { SpeechToText } from '../speech/stt.js';
import type { TextToSpeech } from '../speech/tts.js';
import type { Brain } from './brain.js';

export interface CallEngines {
  stt: SpeechToText;
  tts: TextToSpeech;
  /**
   * The offline voice, for a filler while a reply is late (the cloud stages may be the reason, so
   * not through `tts`). Unset: no fillers.
   */
  fillerTts?: TextToSpeech;
  vad: Vad;
  brain: Brain;
  /** Releases per-call engine resources (e.g. a provider socket) when the call ends. */
  dispose?: () => void;
  /**
   * The one channel for fallbacks inside the call's engines (STT, TTS, the LLM handing a turn to
   * the flow brain). Reports made before the session subscribes are delivered on subscribe.
   */
  onFallback?: (listener: FallbackListener) => void;
  /** Tokens the call's LLM used so far (cloud brains only). */
  llmUsage?: () => Pick<CallUsage, 'llmInputTokens' | 'llmCachedInputTokens' | 'llmCacheWriteTokens' | 'llmOutputTokens'>;
}

export interface CallTransport {
  sendMedia(mulaw: Uint8Array): void;
  sendMark(name: string): void;
  sendClear(): void;
  /** End the media stream; Twilio then runs the TwiML after </Connect> (a <Hangup/>). */
  close(): void;
}
