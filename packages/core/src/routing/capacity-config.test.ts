import { describe, expect, it } from 'vitest';
import { DEFAULT_CAPACITY, resolveCapacityConfig } from './capacity-config.js';

describe('resolveCapacityConfig', () => {
  it('fills each field from the config, then the router, then the defaults', () => {
    expect(resolveCapacityConfig('t', undefined)).toEqual(DEFAULT_CAPACITY);
    expect(DEFAULT_CAPACITY).toEqual({ train: 1.25, eval: 'auto' });
    expect(resolveCapacityConfig('t', { eval: 0 }, { train: 0.5, eval: 3, preset: 'tutel' })).toEqual({ train: 0.5, eval: 0, preset: 'tutel' });
    expect(resolveCapacityConfig('t', { train: 1, multipleOf: 4, min: 2, rounding: 'floor', multiplyByK: false })).toEqual({ train: 1, eval: 'auto', multipleOf: 4, min: 2, rounding: 'floor', multiplyByK: false });
  });

  it('rejects bad fields by name', () => {
    expect(() => resolveCapacityConfig('MixtureOfExperts', { trian: 1 } as never)).toThrow("MixtureOfExperts (capacity): argument 'trian' expected one of the known options (train, eval, preset, rounding, multiplyByK, multipleOf, min), got unknown option 'trian'");
    expect(() => resolveCapacityConfig('M', { train: NaN })).toThrow("M: argument 'capacity.train' expected a finite number, got NaN");
    expect(() => resolveCapacityConfig('M', { eval: Infinity })).toThrow("M: argument 'capacity.eval' expected a finite number or 'auto', got Infinity");
    expect(() => resolveCapacityConfig('M', { eval: 'dropless' as never })).toThrow("M: argument 'capacity.eval' expected a finite number or 'auto', got 'dropless'");
    expect(() => resolveCapacityConfig('M', { preset: 'fairseq' as never })).toThrow("M: argument 'capacity.preset' expected one of 'tutel' | 'deepspeed' | 'vmoe' | 'megablocks' | 'lucidrains', got 'fairseq'");
    expect(() => resolveCapacityConfig('M', { preset: 'vmoe', rounding: 'floor' })).toThrow("M: argument 'capacity.rounding' expected undefined with preset 'vmoe' (the preset fixes it), got 'floor'");
    expect(() => resolveCapacityConfig('M', { multipleOf: 0 })).toThrow("M: argument 'capacity.multipleOf' expected an integer >= 1, got 0");
    expect(() => resolveCapacityConfig('M', 1.25 as never)).toThrow("M: argument 'capacity' expected a CapacityConfig object ({ train, eval, preset, … }), got 1.25");
  });
});
