import type * as tf from '@tensorflow/tfjs-core';
import type { ExpertApplyOptions } from './expert-bank.js';

/**
 * A dense branch every token goes through beside the routed experts, its output added to theirs:
 * DeepSpeed's residual MoE (Rajbhandari et al. 2022, https://arxiv.org/abs/2201.05596) and the shared
 * experts of ScMoE / DeepSeekMoE. `[T, ...in]` → `[T, ...out]`, the same widths as the expert bank.
 */
export interface SharedBranch {
  /** The branch's trainable variables. */
  readonly trainableVariables: tf.Variable[];
  /** Creates the weights for per-token inputs of shape `inputFeatureShape`, if the branch builds lazily (a no-op once built). */
  build?(inputFeatureShape: number[]): void;
  /** Applies the branch to every token: `[T, ...in]` → `[T, ...out]`. */
  apply(tokens: tf.Tensor, options: ExpertApplyOptions): tf.Tensor;
  /** Releases the branch's variables. */
  dispose(): void;
}
