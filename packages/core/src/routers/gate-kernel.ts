import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkOneOf } from '../util/validate.js';

/**
 * How a router's `[Dg, E]` gate kernel starts: `'zeros'` (tensor2tensor's noisy gating),
 * `'glorotUniform'` (`U(±√(6 / (Dg + E)))`, tfjs-layers' default), or `'switch'` — Switch Transformer
 * §2.4: truncated normal, mean 0, std `√(s / Dg)` with the reduced scale `s = 0.1`.
 */
export type GateInitializer = 'zeros' | 'glorotUniform' | 'switch';

/** Every {@link GateInitializer}. */
export const gateInitializers: readonly GateInitializer[] = ['zeros', 'glorotUniform', 'switch'];

/** Creates a router's gate kernel `[inputDim, numExperts]` as a trainable variable (see {@link GateInitializer}), drawn from `seed`. */
export function createGateKernel(inputDim: number, numExperts: number, initializer: GateInitializer, seed?: number): tf.Variable {
  checkInteger('createGateKernel', 'inputDim', inputDim, 1);
  checkInteger('createGateKernel', 'numExperts', numExperts, 1);
  checkOneOf('createGateKernel', 'initializer', initializer, ['zeros', 'glorotUniform', 'switch']);
  return tf.tidy(() => {
    const shape: [number, number] = [inputDim, numExperts];
    const limit = Math.sqrt(6 / (inputDim + numExperts));
    const initial =
      initializer === 'zeros' ? tf.zeros(shape)
      : initializer === 'switch' ? tf.truncatedNormal(shape, 0, Math.sqrt(0.1 / inputDim), 'float32', seed)
      : tf.randomUniform(shape, -limit, limit, 'float32', seed);
    return tf.variable(initial, true);
  });
}
