/**
 * G.711 μ-law at 8 kHz, the only format Twilio Media Streams carries. Encoding and decoding use
 * the well-tested `alawmulaw` tables; this module adds the constants and helpers the call path needs.
 */
import alawmulaw from 'alawmulaw';

export const SAMPLE_RATE = 8000;
/** μ-law is one byte per sample: 8 bytes per millisecond at 8 kHz. */
export const BYTES_PER_MS = SAMPLE_RATE / 1000;
/** One 20 ms telephony frame. */
export const FRAME_MS = 20;
export const FRAME_BYTES = FRAME_MS * BYTES_PER_MS;
/** The μ-law code for digital silence (0 after decode). */
export const MULAW_SILENCE = 0xff;

export function decodeMulaw(mulaw: Uint8Array): Int16Array {
  return alawmulaw.mulaw.decode(mulaw);
}

export function encodeMulaw(pcm: Int16Array): Uint8Array {
  return alawmulaw.mulaw.encode(pcm);
}

export function mulawSilence(ms: number): Uint8Array {
  return new Uint8Array(Math.max(0, Math.round(ms * BYTES_PER_MS))).fill(MULAW_SILENCE);
}

export function mulawDurationMs(bytes: number): number {
  return bytes / BYTES_PER_MS;
}
