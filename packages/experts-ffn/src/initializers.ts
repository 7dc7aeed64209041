import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** tfjs-layers initialisers an expert's `[in, out]` kernel may use; fans are those of one expert. */
export type KernelInitializerName = 'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal' | 'leCunUniform' | 'leCunNormal' | 'zeros';

/** The initialiser names, for validation. @internal */
export const kernelInitializerNames: readonly KernelInitializerName[] = ['glorotUniform', 'glorotNormal', 'heUniform', 'heNormal', 'leCunUniform', 'leCunNormal', 'zeros'];

/** Draws one `[fanIn, fanOut]` kernel with tfjs-layers' initialiser of that name. @internal */
export function drawKernel(name: KernelInitializerName, shape: [number, number], seed: number | undefined): tf.Tensor {
  const init = name === 'zeros' ? tfl.initializers.zeros() : tfl.initializers[name]({ seed });
  return init.apply(shape, 'float32');
}
