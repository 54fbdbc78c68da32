// G.711 μ-law and the 8 kHz resampling the browser phone needs. Plain ES module with no browser
// globals: imported by the AudioWorklet (phone-worklet.js) and by the Node unit tests.

const BIAS = 0x84;
const CLIP = 32635;

/** One 16-bit linear sample → one μ-law byte (ITU-T G.711, the table Twilio uses). */
export function linearToMulaw(sample) {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** One μ-law byte → one 16-bit linear sample. */
export function mulawToLinear(byte) {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + BIAS) << exponent) - BIAS;
  return u & 0x80 ? 0 - magnitude : magnitude; // 0 - 0 is +0, -0 would not be
}

/**
 * Windowed-sinc (Hamming) low-pass taps, unity DC gain. `cutoff` is in cycles per input sample.
 * Hamming gives ~53 dB stop band; the length sets the transition width (~3.3 / taps of the rate).
 */
export function lowPassTaps(cutoff, taps) {
  const h = new Float32Array(taps);
  const mid = (taps - 1) / 2;
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const x = i - mid;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    h[i] = sinc * (0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (taps - 1)));
    sum += h[i];
  }
  for (let i = 0; i < taps; i++) h[i] /= sum;
  return h;
}

/**
 * Streaming resampler from `inRate` down to `outRate` (8 kHz). Everything above ~3.4 kHz is removed
 * by the FIR low-pass *before* decimation (naive sample dropping would fold it back as aliasing);
 * output positions between two filtered input samples are linearly interpolated, which is accurate
 * because the filtered signal is heavily oversampled.
 */
export class Downsampler {
  constructor(inRate, outRate = 8000) {
    this.step = inRate / outRate;
    // ~1.2 kHz transition band at any input rate: taps scale with the rate (127 at 48 kHz).
    const taps = Math.max(15, Math.round((inRate / 48000) * 127) | 1);
    this.taps = lowPassTaps(Math.min(3400, outRate * 0.425) / inRate, taps);
    this.half = (taps - 1) / 2;
    // Input samples; buffer[0] is absolute index `base`. `half` zeros precede the stream so the
    // first output sample (at index 0) can be filtered at once.
    this.base = -this.half;
    this.buffer = new Float32Array(this.half);
    this.next = 0; // absolute input position of the next output sample
  }

  /** Filtered value at absolute input index i (needs i ± half in the buffer). */
  filtered(i) {
    const start = i - this.half - this.base;
    let acc = 0;
    for (let k = 0; k < this.taps.length; k++) acc += this.taps[k] * this.buffer[start + k];
    return acc;
  }

  /** Float samples at `inRate` in; float samples at `outRate` out. */
  push(input) {
    const merged = new Float32Array(this.buffer.length + input.length);
    merged.set(this.buffer);
    merged.set(input, this.buffer.length);
    this.buffer = merged;
    const end = this.base + this.buffer.length; // one past the last absolute index held
    const out = [];
    while (Math.floor(this.next) + 1 + this.half < end) {
      const i = Math.floor(this.next);
      const frac = this.next - i;
      const a = this.filtered(i);
      out.push(frac === 0 ? a : a + (this.filtered(i + 1) - a) * frac);
      this.next += this.step;
    }
    const keepFrom = Math.floor(this.next) - this.half; // oldest sample any future output needs
    if (keepFrom > this.base) {
      this.buffer = this.buffer.slice(keepFrom - this.base);
      this.base = keepFrom;
    }
    return Float32Array.from(out);
  }
}

/**
 * Streaming linear-interpolation upsampler (8 kHz → the AudioContext rate) for the agent's voice.
 * Its sinc² response already damps the images above 4 kHz; telephone audio has nothing up there.
 */
export class Upsampler {
  constructor(inRate, outRate) {
    this.step = inRate / outRate; // input samples per output sample (< 1)
    this.previous = 0;
    this.position = 0; // fractional position between `previous` (0) and the next input (1)
  }

  push(input) {
    const out = [];
    for (let n = 0; n < input.length; n++) {
      const current = input[n];
      while (this.position < 1) {
        out.push(this.previous + (current - this.previous) * this.position);
        this.position += this.step;
      }
      this.position -= 1;
      this.previous = current;
    }
    return Float32Array.from(out);
  }

  reset() {
    this.previous = 0;
    this.position = 0;
  }
}
