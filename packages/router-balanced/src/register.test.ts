import * as tf from '@tensorflow/tfjs';
import { componentConfig, fromComponentConfig, MoEDisposedError, registeredPackage, type Component } from '@moekit/core';
import { describe, expect, it } from 'vitest';
import './register.js';
import { BalancedAssignment } from './balanced-assignment.js';
import { ExpertChoice } from './expert-choice.js';
import { HashRouter } from './hash-router.js';
import { SoftMoE } from './soft-moe.js';
import { SoftMoEGate } from './soft-moe-gate.js';

/** Each component of the package, built with non-default arguments, and a call that uses it. */
const cases: Array<[string, () => Component, (c: never) => unknown]> = [
  ['ExpertChoice', () => new ExpertChoice({ numExperts: 2, capacityFactor: 1.5, capacityRounding: 'floor' }), (c: ExpertChoice) => c.route(tf.zeros([4, 2]) as tf.Tensor2D, { training: true })],
  ['SoftMoE', () => new SoftMoE({ numExperts: 2, slotsPerExpert: 2, groupSize: 2 }), (c: SoftMoE) => c.route(tf.zeros([4, 4]) as tf.Tensor2D, { training: true })],
  ['SoftMoEGate', () => new SoftMoEGate({ numOutputs: 4, inputDim: 3, normalize: false, kernelInitializer: 'switch', seed: 5 }), (c: SoftMoEGate) => c.scores(tf.zeros([2, 3]) as tf.Tensor2D)],
  ['BalancedAssignment', () => new BalancedAssignment({ numExperts: 2, swapRounds: 3, temperatureEnd: 0.01 }), (c: BalancedAssignment) => c.route(tf.zeros([4, 2]) as tf.Tensor2D, { training: true })],
  ['HashRouter', () => new HashRouter({ numExperts: 3, hashOf: 'featureBucket', bucketBits: 4, inputDim: 2, table: 'balanced', seed: 9 }), (c: HashRouter) => c.route(tf.ones([2, 2]) as tf.Tensor2D, { training: true })],
];

describe('the components of @moekit/router-balanced', () => {
  it.each(cases)('%s saves and loads through the registry, naming its package', (className, make) => {
    const component = make();
    const spec = componentConfig(component, 'test', 'component');
    expect(spec).toMatchObject({ className, package: '@moekit/router-balanced' });
    expect(registeredPackage(className)).toBe('@moekit/router-balanced');
    const copy = fromComponentConfig<Component>(JSON.parse(JSON.stringify(spec)), 'test', 'component');
    expect(copy.getClassName()).toBe(className);
    expect(componentConfig(copy, 'test', 'component')).toEqual(spec);
    // weights drawn from the same seed are the same (SoftMoEGate); the others have none
    expect(copy.trainableVariables.map((v) => Array.from(v.dataSync()))).toEqual(component.trainableVariables.map((v) => Array.from(v.dataSync())));
    component.dispose();
    copy.dispose();
  });

  it.each(cases)('%s throws MoEDisposedError once disposed, and releases its tensors', (className, make, use) => {
    const before = tf.memory().numTensors;
    const component = make();
    component.dispose();
    component.dispose(); // a second dispose is a no-op
    expect(tf.memory().numTensors).toBe(before);
    expect(component.isDisposed).toBe(true);
    tf.tidy(() => {
      expect(() => use(component as never)).toThrow(MoEDisposedError);
      expect(() => use(component as never)).toThrow(`${className}.`);
    });
  });

  it('HashRouter rebuilds the same table and projection after a save and load', () => {
    const router = new HashRouter({ numExperts: 4, hashOf: 'featureBucket', bucketBits: 6 }); // seed drawn and saved
    const copy = fromComponentConfig<HashRouter>(JSON.parse(JSON.stringify(componentConfig(router, 'test', 'router'))), 'test', 'router');
    expect(copy.lookupTable()).toEqual(router.lookupTable());
    const x = tf.randomNormal([32, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
    const [a, b] = [router, copy].map((r) => r.hashIds(x));
    expect(Array.from(b!.dataSync())).toEqual(Array.from(a!.dataSync()));
    tf.dispose([x, a!, b!]);
    router.dispose();
    copy.dispose();
  });
});
