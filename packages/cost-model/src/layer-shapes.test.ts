import { describe, expect, it } from 'vitest';
import { dispatchBytes, dispatchedRows, expertParameters, layerFlopsPerGpu, validateShape } from './layer-shapes.js';

const shape = { tokensPerGpu: 1000, modelDim: 10, hiddenDim: 40, numExperts: 4, topK: 2, capacityFactor: 1.5 };

describe('layer shapes', () => {
  it('counts expert parameters, dispatched rows and bytes', () => {
    expect(expertParameters(shape)).toBe(800); // 2·10·40
    expect(dispatchedRows(shape)).toBe(3000); // 1.5·2·1000
    expect(dispatchBytes(shape)).toBe(60000); // 3000 rows · 10 · 2 bytes
  });

  it('FLOPs: gate 2·T·D·E plus experts 2·rows·2DH, three times in training', () => {
    // gate 2·1000·10·4 = 80 000; experts 2·3000·800 = 4 800 000; forward 4 880 000
    expect(layerFlopsPerGpu({ ...shape, training: false })).toBe(4_880_000);
    expect(layerFlopsPerGpu(shape)).toBe(14_640_000);
  });

  it('fills the defaults and rejects topK > numExperts by name', () => {
    expect(validateShape(shape)).toMatchObject({ bytesPerElement: 2, training: true });
    expect(() => validateShape({ ...shape, topK: 5 })).toThrow("validateShape: argument 'topK' expected at most numExperts (4), got 5");
    expect(() => validateShape({ ...shape, capacityFactor: 0 })).toThrow("argument 'capacityFactor' expected a finite number > 0, got 0");
    expect(() => validateShape({ ...shape, tokensPerGpu: 1.5 })).toThrow("argument 'tokensPerGpu' expected an integer >= 1, got 1.5");
  });
});
