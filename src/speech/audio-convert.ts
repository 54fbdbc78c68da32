/**
 * Pure audio helpers shared by the offline engines: μ-law ⇄ PCM16, the ×2 upsampler pocketsphinx
 * needs (its en-us model only accepts 16 kHz), and a minimal RIFF/WAVE reader for flite's output.
 */
import alawmulaw from 'alawmulaw';

export function mulawToPcm16(mulaw: Uint8Array): Int16Array {
  return alawmulaw.mulaw.decode(mulaw);
}

export function pcm16ToMulaw(pcm: Int16Array): Uint8Array {
  return alawmulaw.mulaw.encode(pcm);
}

/**
 * 8 kHz → 16 kHz by linear interpolation: each input sample is followed by the midpoint to the
 * next one (the last sample is repeated). Telephone audio has nothing above 4 kHz, so no
 * anti-imaging filter is needed for the recogniser (measured: same WER as sinc resampling).
 */
export function upsample2xLinear(input: Int16Array): Int16Array {
  const out = new Int16Array(input.length * 2);
  for (let i = 0; i < input.length; i++) {
    const a = input[i]!;
    const b = i + 1 < input.length ? input[i + 1]! : a;
    out[2 * i] = a;
    out[2 * i + 1] = (a + b) >> 1;
  }
  return out;
}

/**
 * 8 kHz → 16 kHz with a half-band windowed-sinc interpolator: even output samples are the input,
 * odd ones are interpolated from the `HALF_BAND_SIDE` input samples on each side. Unlike linear
 * interpolation (which leaves a mirror image of the 0–4 kHz speech at −4…−25 dB in 4–8 kHz), the
 * band above 4 kHz stays empty, so the 16 kHz model's upper filterbank channels see no invented
 * energy.
 */
export function upsample2xSinc(input: Int16Array): Int16Array {
  const out = new Int16Array(input.length * 2);
  const n = input.length;
  for (let i = 0; i < n; i++) {
    out[2 * i] = input[i]!;
    let acc = 0;
    for (let k = 0; k < HALF_BAND_TAPS.length; k++) {
      // Taps for input samples i-SIDE+1 … i+SIDE around the midpoint i+½ (edges repeat the end samples).
      const idx = Math.min(n - 1, Math.max(0, i - HALF_BAND_SIDE + 1 + k));
      acc += input[idx]! * HALF_BAND_TAPS[k]!;
    }
    out[2 * i + 1] = Math.max(-32768, Math.min(32767, Math.round(acc)));
  }
  return out;
}

const HALF_BAND_SIDE = 12;
const HALF_BAND_TAPS: readonly number[] = (() => {
  const h: number[] = [];
  for (let k = 0; k < 2 * HALF_BAND_SIDE; k++) {
    const t = k - HALF_BAND_SIDE + 0.5; // distance from the midpoint, in input samples
    const window = 0.5 + 0.5 * Math.cos((Math.PI * t) / (HALF_BAND_SIDE + 0.5)); // Hann
    h.push((Math.sin(Math.PI * t) / (Math.PI * t)) * window);
  }
  const gain = h.reduce((a, b) => a + b, 0); // unity gain at DC
  return h.map((x) => x / gain);
})();

/**
 * 16 kHz → 8 kHz: 31-tap Hamming-windowed-sinc low-pass at 3.6 kHz, keep every 2nd sample.
 * For flite's 16 kHz voices (slt, rms, awb); kal is native 8 kHz and skips this.
 */
export function decimate16kTo8k(input: Int16Array): Int16Array {
  const out = new Int16Array(Math.floor(input.length / 2));
  const half = (DECIMATION_TAPS.length - 1) / 2;
  for (let o = 0; o < out.length; o++) {
    let acc = 0;
    for (let k = 0; k < DECIMATION_TAPS.length; k++) {
      const idx = 2 * o + k - half;
      if (idx >= 0 && idx < input.length) acc += input[idx]! * DECIMATION_TAPS[k]!;
    }
    out[o] = Math.max(-32768, Math.min(32767, Math.round(acc)));
  }
  return out;
}

const DECIMATION_TAPS: readonly number[] = (() => {
  const taps = 31;
  const half = (taps - 1) / 2;
  const cutoff = 3600 / 16000;
  const h: number[] = [];
  for (let i = 0; i < taps; i++) {
    const n = i - half;
    const sinc = n === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * n) / (Math.PI * n);
    h.push(sinc * (0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (taps - 1))));
  }
  const gain = h.reduce((a, b) => a + b, 0); // unity gain at DC
  return h.map((x) => x / gain);
})();

/** Little-endian bytes of PCM16 samples (what pocketsphinx's process_raw expects on x86/ARM). */
export function pcm16ToLeBytes(pcm: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i]!, i * 2);
  return out;
}

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** PCM payload (the `data` chunk), little-endian samples. */
  data: Uint8Array;
}

/** Parses a PCM RIFF/WAVE file by walking its chunks (no fixed 44-byte assumption). */
export function parseWav(bytes: Uint8Array): WavInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (offset: number) =>
    String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('not a RIFF/WAVE file');
  let fmt: Omit<WavInfo, 'data'> | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16) throw new Error('WAV fmt chunk too short');
      const format = view.getUint16(body, true);
      if (format !== 1) throw new Error(`unsupported WAV format ${format} (only PCM)`);
      fmt = {
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!fmt) throw new Error('WAV data chunk before fmt chunk');
      // flite writes the real size; clamp anyway in case a writer left it at 0/0xFFFFFFFF.
      const end = Math.min(bytes.length, body + (size === 0 ? bytes.length : size));
      return { ...fmt, data: bytes.subarray(body, end) };
    }
    offset = body + size + (size & 1); // chunks are word-aligned
  }
  throw new Error('WAV has no data chunk');
}

/** PCM16 samples from a parsed WAV (mono, 16-bit only). */
export function wavPcm16(info: WavInfo): Int16Array {
  if (info.bitsPerSample !== 16 || info.channels !== 1) {
    throw new Error(`expected mono 16-bit WAV, got ${info.channels} ch × ${info.bitsPerSample} bit`);
  }
  const n = info.data.length >> 1;
  const out = new Int16Array(n);
  const view = new DataView(info.data.buffer, info.data.byteOffset, n * 2);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** The chunks one after another in one new array. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
