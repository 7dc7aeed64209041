import type * as tf from '@tensorflow/tfjs-core';
import type { AuxLosses } from './aux-losses.js';
import type { ExpertApplyOptions } from './expert-bank.js';

/** What {@link SharedBranch.mix} returns. */
export interface SharedBranchMix {
  /** The mixed output `[T, ...out]`, in place of routed + branch. */
  output: tf.Tensor;
  /** The branch's aux losses (`total` weighted), joined to the router's. */
  auxLosses?: AuxLosses;
}

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
  /**
   * Optional: mixes the routed output `[T, ...out]` with the branch's own instead of adding them — a
   * conditional branch such as NLLB's CMR, `(1 − g)·FFN(x) + g·MoE(x)`. Returns the mixed `[T, ...out]`
   * and any aux losses (`total` weighted), which join the router's. When absent the MoE adds `apply`.
   */
  mix?(tokens: tf.Tensor, routed: tf.Tensor, options: ExpertApplyOptions): SharedBranchMix;
  /** Releases the branch's variables. */
  dispose(): void;
}
