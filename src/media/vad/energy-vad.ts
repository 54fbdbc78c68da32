/**
 * Pure-JS fallback VAD (no native dependency): RMS level per 20 ms window against both an absolute
 * threshold and a slowly adapting noise floor. The noise floor is what keeps steady hiss or hum
 * from reading as speech; it is still far less robust than Silero (see notes), so use this only
 * when onnxruntime-node is unavailable.
 */
import type { Vad, VadStream, VadWindow } from './vad.js';

export interface EnergyVadConfig {
  windowMs: number;
  /** Level below which nothing is speech, dBFS. */
  minSpeechDbfs: number;
  /** Speech must be this far above the tracked noise floor, dB. */
  snrDb: number;
  /** Width of the soft transition around the decision point, dB (probability 0.5 at the point). */
  softnessDb: number;
  /** How fast the floor rises towards louder windows, dB per window (falls immediately). */
  floorRiseDbPerWindow: number;
}

export const defaultEnergyVadConfig: EnergyVadConfig = {
  windowMs: 20,
  minSpeechDbfs: -35,
  snrDb: 9,
  softnessDb: 6,
  floorRiseDbPerWindow: 0.1, // 5 dB/s; pauses between words pull it back down at once
};

const SILENCE_DBFS = -96;

/** RMS level of PCM16 samples, dBFS (full-scale sine ≈ -3 dBFS). -96 for digital silence. */
export function rmsDbfs(samples: Int16Array): number {
  if (samples.length === 0) return SILENCE_DBFS;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  const rms = Math.sqrt(sum / samples.length) / 32768;
  return rms > 0 ? Math.max(SILENCE_DBFS, 20 * Math.log10(rms)) : SILENCE_DBFS;
}

/** Speech probability for one window level given the current noise floor. */
export function energyProbability(dbfs: number, noiseFloorDbfs: number, config: EnergyVadConfig): number {
  const decisionPoint = Math.max(config.minSpeechDbfs, noiseFloorDbfs + config.snrDb);
  const x = (dbfs - decisionPoint) / (config.softnessDb / 4);
  return 1 / (1 + Math.exp(-x));
}

/** Noise floor follows quiet windows down at once and loud ones up slowly. */
export function nextNoiseFloor(floor: number, dbfs: number, config: EnergyVadConfig): number {
  return dbfs < floor ? dbfs : Math.min(dbfs, floor + config.floorRiseDbPerWindow);
}

export class EnergyVad implements Vad {
  readonly name = 'energy';
  readonly config: EnergyVadConfig;

  constructor(config: Partial<EnergyVadConfig> = {}) {
    this.config = { ...defaultEnergyVadConfig, ...config };
  }

  createStream(): VadStream {
    const config = this.config;
    const windowSamples = Math.round((config.windowMs * 8000) / 1000);
    const pending = new Int16Array(windowSamples);
    let filled = 0;
    let noiseFloor = config.minSpeechDbfs - config.snrDb; // neutral start: no bias either way
    let closed = false;
    return {
      process(pcm: Int16Array): Promise<VadWindow[]> {
        if (closed) return Promise.resolve([]);
        const windows: VadWindow[] = [];
        let offset = 0;
        while (offset < pcm.length) {
          const take = Math.min(windowSamples - filled, pcm.length - offset);
          pending.set(pcm.subarray(offset, offset + take), filled);
          filled += take;
          offset += take;
          if (filled < windowSamples) break;
          const level = rmsDbfs(pending);
          windows.push({ probability: energyProbability(level, noiseFloor, config), durationMs: config.windowMs });
          noiseFloor = nextNoiseFloor(noiseFloor, level, config);
          filled = 0;
        }
        return Promise.resolve(windows);
      },
      close() {
        closed = true;
      },
    };
  }
}
