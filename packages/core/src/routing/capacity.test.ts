import { describe, expect, it } from 'vitest';
import { computeCapacity } from './capacity.js';
import { MoEArgumentError } from '../util/errors.js';

const base = { numTokens: 10, numExperts: 4, k: 2 };

describe('computeCapacity (moekit convention)', () => {
  it('rounds f·T·K/E as asked', () => {
    // 2·10·1.0/4 = 5
    expect(computeCapacity({ ...base, capacityFactor: 1 })).toBe(5);
    // 2·10·1.1/4 = 5.5 → floor 5, ceil 6, round half-to-even 6
    expect(computeCapacity({ ...base, capacityFactor: 1.1, rounding: 'floor' })).toBe(5);
    expect(computeCapacity({ ...base, capacityFactor: 1.1, rounding: 'ceil' })).toBe(6);
    expect(computeCapacity({ ...base, capacityFactor: 1.1, rounding: 'round' })).toBe(6);
    // 2·10·1.3/4 = 6.5 → half-to-even 6 (Python's round), not 7
    expect(computeCapacity({ ...base, capacityFactor: 1.3, rounding: 'round' })).toBe(6);
  });

  it('applies multiplyByK, multipleOf and minCapacity', () => {
    // 10·1/4 = 2.5 → ceil 3
    expect(computeCapacity({ ...base, capacityFactor: 1, multiplyByK: false })).toBe(3);
    // 5 → next multiple of 4 = 8
    expect(computeCapacity({ ...base, capacityFactor: 1, multipleOf: 4 })).toBe(8);
    expect(computeCapacity({ ...base, capacityFactor: 1, minCapacity: 7 })).toBe(7);
    // 2·10·0.01/4 = 0.05 → floor 0 → at least minCapacity 1
    expect(computeCapacity({ ...base, capacityFactor: 0.01, rounding: 'floor' })).toBe(1);
  });

  it('is dropless at f = 0 and bounded dropless (Tutel) at f < 0', () => {
    expect(computeCapacity({ ...base, capacityFactor: 0, neededCapacity: 7 })).toBe(7);
    // min(7, ceil(2·10·1/4) = 5) = 5; min(7, 10) = 7
    expect(computeCapacity({ ...base, capacityFactor: -1, neededCapacity: 7 })).toBe(5);
    expect(computeCapacity({ ...base, capacityFactor: -2, neededCapacity: 7 })).toBe(7);
    // nothing needed: still one row per expert
    expect(computeCapacity({ ...base, capacityFactor: 0, neededCapacity: 0 })).toBe(1);
  });

  it('bounds a positive factor by the T·K pairs of the call (no expert can be asked for more)', () => {
    // T·K = 10·2 = 20 pairs in all, whatever the factor, with or without multiplyByK
    for (const capacityFactor of [1e9, 1e308, Number.MAX_VALUE]) {
      expect(computeCapacity({ ...base, capacityFactor })).toBe(20);
      expect(computeCapacity({ ...base, capacityFactor, multiplyByK: false })).toBe(20);
      expect(computeCapacity({ ...base, capacityFactor, multipleOf: 8 })).toBe(24); // still a multiple of 8
      expect(computeCapacity({ ...base, capacityFactor, minCapacity: 30 })).toBe(30); // still at least the minimum
      // every preset: 20, except lucidrains, whose one buffer is capped at T = 10 by the library itself
      const presets = { tutel: 20, deepspeed: 20, vmoe: 20, megablocks: 20, lucidrains: 10 } as const;
      for (const [preset, expected] of Object.entries(presets)) expect([preset, computeCapacity({ ...base, capacityFactor, preset: preset as keyof typeof presets })]).toEqual([preset, expected]);
    }
    // a factor whose share stays under T·K is unchanged: ceil(3·10·2/4) = 15
    expect(computeCapacity({ ...base, capacityFactor: 3 })).toBe(15);
    // ceil(5·10·2/4) = 25 > 20 → 20
    expect(computeCapacity({ ...base, capacityFactor: 5 })).toBe(20);
  });

  it('names the argument, the expected and the actual value', () => {
    expect(() => computeCapacity({ ...base, capacityFactor: 0 })).toThrow(
      "computeCapacity: argument 'neededCapacity' expected an integer >= 0 (capacityFactor 0 is dropless), got undefined",
    );
    expect(() => computeCapacity({ ...base, numExperts: 0, capacityFactor: 1 })).toThrow(
      "argument 'numExperts' expected an integer >= 1, got 0",
    );
    expect(() => computeCapacity({ ...base, k: 5, capacityFactor: 1 })).toThrow("argument 'k' expected an integer in [1, 4], got 5");
    expect(() => computeCapacity({ ...base, k: 0, capacityFactor: 1 })).toThrow("argument 'k' expected an integer in [1, 4], got 0");
    expect(() => computeCapacity({ ...base, capacityFactor: NaN })).toThrow("argument 'capacityFactor' expected a finite number, got NaN");
    expect(() => computeCapacity({ ...base, capacityFactor: 1, rounding: 'up' as never })).toThrow(
      "argument 'rounding' expected one of 'floor' | 'ceil' | 'round', got 'up'",
    );
    expect(() => computeCapacity({ ...base, capacityFactor: 1, multipleOf: 0 })).toThrow(MoEArgumentError);
  });
});

describe('capacityPresets reproduce each library', () => {
  it('tutel: k · int(f · ceil(T/E)), rounded up to alignment', () => {
    // ceil(10/4) = 3; int(1.25·3) = int(3.75) = 3; ·2 = 6
    expect(computeCapacity({ ...base, capacityFactor: 1.25, preset: 'tutel' })).toBe(6);
    // the generic convention would give ceil(1.25·10·2/4) = ceil(6.25) = 7
    expect(computeCapacity({ ...base, capacityFactor: 1.25 })).toBe(7);
    // Python: int(0.57 · 100) = int(56.99999999999999) = 56
    expect(computeCapacity({ numTokens: 100, numExperts: 1, k: 1, capacityFactor: 0.57, preset: 'tutel' })).toBe(56);
    // f < 0: min(needed 9, 2·int(1·3) = 6) = 6; alignment 4 → 8
    expect(computeCapacity({ ...base, capacityFactor: -1, neededCapacity: 9, preset: 'tutel' })).toBe(6);
    expect(computeCapacity({ ...base, capacityFactor: -1, neededCapacity: 9, preset: 'tutel', multipleOf: 4 })).toBe(8);
    expect(computeCapacity({ ...base, capacityFactor: 0, neededCapacity: 9, preset: 'tutel' })).toBe(9);
  });

  it('deepspeed: ceil((T/E) · f·k) in float32, at least min_capacity 4', () => {
    // float32(100) · float32(1.1) = 110.0 exactly in float32 → 110 (float64 gives 110.00000000000001 → 111)
    expect(computeCapacity({ numTokens: 1000, numExperts: 10, k: 1, capacityFactor: 1.1, preset: 'deepspeed' })).toBe(110);
    // ceil(2.5 · 2) = 5
    expect(computeCapacity({ ...base, capacityFactor: 1, preset: 'deepspeed' })).toBe(5);
    // ceil(1 · 1) = 1 → min_capacity 4
    expect(computeCapacity({ numTokens: 8, numExperts: 8, k: 1, capacityFactor: 1, preset: 'deepspeed' })).toBe(4);
    // drop_tokens=False: the largest count, no minimum
    expect(computeCapacity({ numTokens: 8, numExperts: 8, k: 1, capacityFactor: 0, neededCapacity: 2, preset: 'deepspeed' })).toBe(2);
  });

  it('vmoe: ceil(T·k · f / E), then a multiple of 4', () => {
    // 100 · 1.1 / 10 = 11.000000000000002 → ceil 12 → multiple of 4: 12
    expect(computeCapacity({ numTokens: 50, numExperts: 10, k: 2, capacityFactor: 1.1, preset: 'vmoe' })).toBe(12);
    // 16 · 1 / 8 = 2 → 4
    expect(computeCapacity({ numTokens: 16, numExperts: 8, k: 1, capacityFactor: 1, preset: 'vmoe' })).toBe(4);
    expect(() => computeCapacity({ ...base, capacityFactor: 0, neededCapacity: 3, preset: 'vmoe' })).toThrow(
      "argument 'capacityFactor' expected > 0 (preset 'vmoe' has no dropless mode), got 0",
    );
  });

  it('megablocks: int(f · (k·T / E)), 0 falls back to dropless', () => {
    // int(1.25 · 20/4) = int(6.25) = 6
    expect(computeCapacity({ ...base, capacityFactor: 1.25, preset: 'megablocks' })).toBe(6);
    // int(0.1 · 10/4) = int(0.25) = 0 → the largest needed load, 3
    expect(computeCapacity({ ...base, k: 1, capacityFactor: 0.1, neededCapacity: 3, preset: 'megablocks' })).toBe(3);
  });

  it('lucidrains: max(min(T, int(T·f / E)), 4), no k', () => {
    // int(12.5 / 4) = 3 → max(min(10, 3), 4) = 4
    expect(computeCapacity({ ...base, capacityFactor: 1.25, preset: 'lucidrains' })).toBe(4);
    // int(80 / 4) = 20
    expect(computeCapacity({ numTokens: 64, numExperts: 4, k: 2, capacityFactor: 1.25, preset: 'lucidrains' })).toBe(20);
    // min(2, int(4)) = 2 → max(2, 4) = 4: the minimum wins over the token count, as in the original
    expect(computeCapacity({ numTokens: 2, numExperts: 1, k: 1, capacityFactor: 2, preset: 'lucidrains' })).toBe(4);
  });

  it('rejects options a preset fixes, and unknown presets', () => {
    expect(() => computeCapacity({ ...base, capacityFactor: 1, preset: 'vmoe', rounding: 'floor' })).toThrow(
      "argument 'rounding' expected undefined with preset 'vmoe' (the preset fixes it), got 'floor'",
    );
    expect(() => computeCapacity({ ...base, capacityFactor: 1, preset: 'fairseq' as never })).toThrow(
      "argument 'preset' expected one of tutel | deepspeed | vmoe | megablocks | lucidrains, got 'fairseq'",
    );
    for (const preset of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(() => computeCapacity({ ...base, capacityFactor: 1, preset: preset as never })).toThrow(
        `argument 'preset' expected one of tutel | deepspeed | vmoe | megablocks | lucidrains, got '${preset}'`,
      );
    }
  });
});
