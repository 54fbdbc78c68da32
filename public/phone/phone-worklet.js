// AudioWorklet processors of the browser phone, running on the audio thread:
// - "phone-capture": microphone → 8 kHz (low-pass + decimate) → μ-law → 160-byte (20 ms) frames,
//   posted to the page, which sends them as Twilio `media` events.
// - "phone-playback": the agent's μ-law → linear → upsampled to the context rate → a playback queue
//   that keeps Twilio's mark semantics: a mark is echoed when playback reaches it (or at once when
//   nothing is buffered), and `clear` drops the audio and echoes every pending mark immediately.
import { Downsampler, Upsampler, linearToMulaw, mulawToLinear } from './g711.js';

const FRAME_BYTES = 160;

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.downsampler = new Downsampler(sampleRate, 8000);
    this.frame = new Uint8Array(FRAME_BYTES);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0]?.[0];
    if (!channel) return true; // no input connected yet
    const samples = this.downsampler.push(channel);
    for (let i = 0; i < samples.length; i++) {
      this.frame[this.filled++] = linearToMulaw(samples[i] * 32767);
      if (this.filled === FRAME_BYTES) {
        const frame = this.frame;
        this.port.postMessage(frame, [frame.buffer]);
        this.frame = new Uint8Array(FRAME_BYTES);
        this.filled = 0;
      }
    }
    return true;
  }
}

class PlaybackProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.upsampler = new Upsampler(8000, sampleRate);
    /** In playback order: { audio: Float32Array, offset } or { mark: name }. */
    this.queue = [];
    this.port.onmessage = (event) => this.onCommand(event.data);
  }

  onCommand(command) {
    if (command.type === 'audio') {
      const pcm = new Float32Array(command.bytes.length);
      for (let i = 0; i < pcm.length; i++) pcm[i] = mulawToLinear(command.bytes[i]) / 32768;
      this.queue.push({ audio: this.upsampler.push(pcm), offset: 0 });
    } else if (command.type === 'mark') {
      this.queue.push({ mark: command.name });
      this.echoReachedMarks(); // nothing buffered ahead of it: Twilio echoes at once
    } else if (command.type === 'clear') {
      const pending = this.queue.filter((item) => 'mark' in item).map((item) => item.mark);
      this.queue = [];
      this.upsampler.reset();
      for (const name of pending) this.port.postMessage({ type: 'mark', name });
    }
  }

  echoReachedMarks() {
    while (this.queue.length > 0 && 'mark' in this.queue[0]) {
      this.port.postMessage({ type: 'mark', name: this.queue.shift().mark });
    }
  }

  process(_inputs, outputs) {
    const out = outputs[0]?.[0];
    if (!out) return true;
    let written = 0;
    this.echoReachedMarks();
    while (written < out.length && this.queue.length > 0) {
      const head = this.queue[0];
      const n = Math.min(out.length - written, head.audio.length - head.offset);
      out.set(head.audio.subarray(head.offset, head.offset + n), written);
      written += n;
      head.offset += n;
      if (head.offset === head.audio.length) {
        this.queue.shift();
        this.echoReachedMarks();
      }
    }
    out.fill(0, written);
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    return true;
  }
}

registerProcessor('phone-capture', CaptureProcessor);
registerProcessor('phone-playback', PlaybackProcessor);
