import { describe, expect, it } from 'vitest';
import { defaultEnergyVadConfig as cfg, energyProbability, nextNoiseFloor, rmsDbfs } from '../../../src/media/vad/energy-vad.js';

describe('rmsDbfs', () => {
  it.each([
    { name: 'empty', samples: [], db: -96 },
    { name: 'zeros', samples: [0, 0, 0], db: -96 },
    { name: 'full-scale square', samples: [32767, -32768], db: 0 },
    { name: 'half-scale square', samples: [16384, -16384], db: -6.02 },
    { name: 'one LSB', samples: [1, -1], db: -90.31 },
  ])('$name → $db dBFS', ({ samples, db }) => {
    expect(rmsDbfs(Int16Array.from(samples))).toBeCloseTo(db, 1);
  });
});

describe('energyProbability', () => {
  it.each([
    { db: -20, floor: -60, expected: 'speech' },
    { db: -35, floor: -60, expected: 'edge' }, // exactly the absolute threshold
    { db: -50, floor: -60, expected: 'silence' },
    { db: -25, floor: -30, expected: 'silence' }, // only 5 dB above a loud noise floor
    { db: -15, floor: -30, expected: 'speech' },
  ])('$db dBFS over a $floor floor is $expected', ({ db, floor, expected }) => {
    const p = energyProbability(db, floor, cfg);
    if (expected === 'speech') expect(p).toBeGreaterThan(0.9);
    else if (expected === 'silence') expect(p).toBeLessThan(0.1);
    else expect(p).toBeCloseTo(0.5, 5);
  });
});

describe('nextNoiseFloor', () => {
  it.each([
    { floor: -50, db: -70, next: -70 }, // falls at once
    { floor: -50, db: -20, next: -50 + cfg.floorRiseDbPerWindow }, // rises slowly
    { floor: -50, db: -50 + cfg.floorRiseDbPerWindow / 2, next: -50 + cfg.floorRiseDbPerWindow / 2 }, // never above the level
  ])('$floor with a $db window → $next', ({ floor, db, next }) => {
    expect(nextNoiseFloor(floor, db, cfg)).toBeCloseTo(next, 9);
  });
});
