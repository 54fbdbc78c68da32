/** What a call session runs on: its engines (chosen at startup) and its socket to Twilio. */
import type { Vad } from '../media/vad/vad.js';
import type { CallUsage } from '../observability/cost.js';
import type { SpeechToText } from '../speech/stt.js';
import type { TextToSpeech } from '../speech/tts.js';
import type { Brain } from './brain.js';

export interface CallEngines {
  stt: SpeechToText;
  tts: TextToSpeech;
  vad: Vad;
  brain: Brain;
  /** Releases per-call engine resources (e.g. a provider socket) when the call ends. */
  dispose?: () => void;
  /** Lets the session hear about fallbacks inside an engine (e.g. the LLM handing a turn to the flow brain). */
  onFallback?: (listener: (stage: 'stt' | 'tts' | 'llm', from: string, to: string, reason: string) => void) => void;
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
