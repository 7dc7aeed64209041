import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expertClassMatrix, expertClassStatistics } from './expert-class-matrix.js';
import { expertClassMatrixSvg } from './expert-class-matrix-svg.js';

describe('expertClassMatrix', () => {
  it('counts first choices per class in batches and sums to the sample count', () => {
    // 5 images whose pixel value is the expert to choose; labels [0, 1, 1, 2, 0]
    const images = tf.tensor2d([[0], [1], [1], [0], [2]]);
    const assign = (batch: tf.Tensor) => tf.tidy(() => tf.concat([tf.cast(batch, 'int32'), tf.zeros(batch.shape, 'int32')], 1)); // [B, 2]: first column counts
    const m = expertClassMatrix(assign, { images, labels: [0, 1, 1, 2, 0] }, { numExperts: 3, numClasses: 3, batchSize: 2 });
    expect(m.counts).toEqual([[1, 0, 1], [0, 2, 0], [1, 0, 0]]);
    expect(m.total).toBe(5);
    expect(m.load).toEqual([0.4, 0.4, 0.2]);
    images.dispose();
  });

  it('computes entropy and mutual information in bits (hand-checked)', () => {
    // perfectly specialised: I(E; C) = H(C) = 1 bit, each expert's class entropy 0
    const specialised = expertClassStatistics([[2, 0], [0, 2]]);
    expect(specialised.mutualInformation).toBeCloseTo(1, 12);
    expect(specialised.classEntropy).toEqual([0, 0]);
    // routing independent of class: I = 0, entropies 1 bit
    const random = expertClassStatistics([[1, 1], [1, 1]]);
    expect(random.mutualInformation).toBeCloseTo(0, 12);
    expect(random.classEntropy).toEqual([1, 1]);
    // [[3, 1], [0, 0]]: expert 1 unused (entropy NaN); H(C|e0) = −¾log₂¾ − ¼log₂¼ = 0.811278; I = 0 (one expert)
    const skewed = expertClassStatistics([[3, 1], [0, 0]]);
    expect(skewed.classEntropy[0]).toBeCloseTo(0.811278, 6);
    expect(Number.isNaN(skewed.classEntropy[1])).toBe(true);
    expect(skewed.mutualInformation).toBeCloseTo(0, 12);
  });

  it('draws a self-contained SVG heat map', () => {
    const m = { counts: [[2, 0], [0, 2]], ...expertClassStatistics([[2, 0], [0, 2]]) };
    const svg = expertClassMatrixSvg(m, { title: 'MNIST <test>', classNames: ['zero', 'one'] });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect /g)?.length).toBe(4);
    expect(svg).toContain('MNIST &lt;test&gt; — I(E; C) = 1.000 bits');
    expect(svg).not.toMatch(/<script|href=/);
  });

  it('names bad input', () => {
    const images = tf.zeros([2, 1]);
    expect(() => expertClassMatrix(() => tf.tensor1d([0, 0], 'int32'), { images, labels: [0] }, { numExperts: 2, numClasses: 2 })).toThrow("expertClassMatrix: argument 'data.labels' expected 2 labels (images' axis 0), got 1");
    expect(() => expertClassMatrix(() => tf.tensor1d([0, 5], 'int32'), { images, labels: [0, 1] }, { numExperts: 2, numClasses: 2 })).toThrow("expertClassMatrix: argument 'assign' expected experts in [0, 2), got 5 for image 1");
    images.dispose();
  });
});
