import * as tf from '@tensorflow/tfjs';
import { GatedRouter, LinearGate, MoEArgumentError, MoEDisposedError, type Router } from '@moekit/core';
import { HardConstraintRouter, SoftConstraintRouter } from '@moekit/experts-conv';
import { HashGate } from '@moekit/experts-hash-nerf';
import { balancedAssignmentRouter, expertChoiceRouter, HashRouter, softMoERouter } from '@moekit/router-balanced';
import { BatchPriorityRouter } from '@moekit/router-batch-priority';
import { SwitchRouter } from '@moekit/router-switch';
import { CosineGate, HierarchicalTopKRouter, TopKChoice, TopKRouter } from '@moekit/router-topk';
import { describe, expect, it } from 'vitest';
import { failure } from './failure.js';

// The boundary every router keeps, whichever package it comes from: a gate input of the wrong rank or
// (once built) the wrong width is an MoEArgumentError naming 'gateInput' and its shape; use after
// dispose() is an MoEDisposedError; neither path leaks a tensor. README "Errors" sections cite this file.

const D = 3;
const routers: [string, () => Router][] = [
  ['TopKRouter', () => new TopKRouter({ numExperts: 4, k: 2, seed: 1 })],
  ['HierarchicalTopKRouter', () => new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 2, seed: 2 })],
  ['SwitchRouter', () => new SwitchRouter({ numExperts: 4, seed: 3 })],
  ['BatchPriorityRouter', () => new BatchPriorityRouter({ router: new TopKRouter({ numExperts: 4, k: 2, seed: 4 }) })],
  ['GatedRouter(LinearGate, TopKChoice)', () => new GatedRouter({ gate: new LinearGate({ numOutputs: 4 }), algorithm: new TopKChoice({ numExperts: 4, k: 2 }) })],
  ['GatedRouter(CosineGate, TopKChoice)', () => new GatedRouter({ gate: new CosineGate({ numOutputs: 4, seed: 5 }), algorithm: new TopKChoice({ numExperts: 4, k: 1 }) })],
  ['expertChoiceRouter', () => expertChoiceRouter({ numExperts: 4, seed: 6 })],
  ['softMoERouter', () => softMoERouter({ numExperts: 4, seed: 7 })],
  ['balancedAssignmentRouter', () => balancedAssignmentRouter({ numExperts: 4, seed: 8 })],
  ['HashRouter', () => new HashRouter({ numExperts: 4, hashOf: 'featureBucket', seed: 9 })],
  ['SoftConstraintRouter', () => new SoftConstraintRouter({ router: new TopKRouter({ numExperts: 4, k: 1, seed: 10 }) })],
  ['HardConstraintRouter', () => new HardConstraintRouter({ router: new TopKRouter({ numExperts: 4, k: 1, seed: 11 }) })],
  ['HashGate', () => new HashGate({ numExperts: 4, seed: 12 })],
];

describe('every router rejects a bad gate input and use after dispose by name, leaking nothing', () => {
  for (const [name, make] of routers) {
    it(name, async () => {
      await tf.setBackend('cpu');
      const router = make();
      const x = tf.randomUniform([4, D], 0, 1, 'float32', 1); // [T, D] (points in [0, 1)³ for the hash gate)
      tf.dispose(router.route(x as tf.Tensor2D, { training: false }) as unknown as tf.TensorContainer); // builds at width D
      for (const shape of [[D], [2, 2, D], [4, D + 1]]) {
        const bad = tf.zeros(shape);
        const { error, leaked } = failure(() => router.route(bad as tf.Tensor2D, { training: false }));
        expect(error).toBeInstanceOf(MoEArgumentError);
        expect((error as MoEArgumentError).argument).toMatch(/gateInput|points/);
        expect((error as Error).message).toContain(`[${shape.join(', ')}]`);
        expect(leaked).toBe(0);
        bad.dispose();
      }
      router.dispose();
      const { error, leaked } = failure(() => router.route(x as tf.Tensor2D, { training: true }));
      expect(error).toBeInstanceOf(MoEDisposedError);
      expect((error as Error).message).toMatch(/\.route: this \w+ was disposed/);
      expect(leaked).toBe(0);
      x.dispose();
    });
  }
});
