/**
 * The ElevenLabs HTTP stream endpoint (`POST /v1/text-to-speech/{voice_id}/stream?output_format=ulaw_8000`)
 * through the official SDK: the fallback when the socket is unavailable, and how fixed prompts are warmed.
 */
import { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import type { TtsChunk } from './tts.js';

export class ElevenLabsTtsError extends Error {
  constructor(
    message: string,
    readonly kind: 'unavailable' | 'closed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ElevenLabsTtsError';
  }
}

export interface HttpStreamOptions {
  apiKey: string;
  voiceId: string;
  modelId: string;
  httpBase: string;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
}

export class ElevenLabsHttpStream {
  private readonly client: ElevenLabsClient;

  constructor(private readonly options: HttpStreamOptions) {
    // The SDK retries 5xx twice by default; a voice turn cannot wait for that, the fallback is ours.
    this.client = new ElevenLabsClient({ apiKey: options.apiKey, baseUrl: options.httpBase, maxRetries: 0 });
  }

  /** Renders `text`; every chunk is tagged `tag` (the whole piece, even when `text` is its tail). */
  async *render(text: string, tag: string, signal: AbortSignal): AsyncGenerator<TtsChunk> {
    if (text.trim().length === 0) return;
    const request = new AbortController();
    const relay = () => request.abort();
    signal.addEventListener('abort', relay, { once: true });
    let stalled = false;
    const onStall = () => {
      stalled = true;
      request.abort();
    };
    let timer: NodeJS.Timeout | null = setTimeout(onStall, this.options.firstByteTimeoutMs);
    let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
    let finished = false;
    try {
      const body = await this.client.textToSpeech.stream(
        this.options.voiceId,
        { text, modelId: this.options.modelId, outputFormat: 'ulaw_8000' },
        { abortSignal: request.signal, maxRetries: 0, timeoutInSeconds: 60 },
      );
      reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (timer) clearTimeout(timer);
        timer = null;
        if (done) break;
        // The idle clock runs only while we wait on the server, not while the consumer holds a chunk.
        if (value.length > 0) yield { audio: value, text: tag };
        timer = setTimeout(onStall, this.options.idleTimeoutMs);
      }
      finished = true;
    } catch (error) {
      if (signal.aborted && !stalled) return;
      const why = stalled ? 'the HTTP stream stalled' : describeError(error);
      throw new ElevenLabsTtsError(`ElevenLabs HTTP synthesis failed: ${why}`, 'unavailable', { cause: error });
    } finally {
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', relay);
      if (!finished) {
        request.abort();
        reader?.cancel().catch(() => undefined);
      }
    }
  }
}

/** The SDK wants the HTTP origin (it appends /v1/...); the socket needs the same host as ws(s). */
export function elevenLabsEndpoints(baseUrl: string): { httpBase: string; wsBase: string } {
  const url = new URL(baseUrl);
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return { httpBase: `${secure ? 'https' : 'http'}://${url.host}${path}`, wsBase: `${secure ? 'wss' : 'ws'}://${url.host}${path}` };
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    return typeof status === 'number' ? `${error.message} (HTTP ${status})` : error.message;
  }
  return String(error);
}
