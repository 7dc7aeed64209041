import type * as tf from '@tensorflow/tfjs-core';
import type { Capability } from '../components/capabilities.js';

/** Options passed to every {@link ExpertBank.apply} call. */
export interface ExpertApplyOptions {
  /** True while training (dropout, noise). */
  training: boolean;
}

/**
 * The expert contract: all `E` experts applied at once to their padded buffers, `[E, C, ...in]` →
 * `[E, C, ...out]` (one batched matMul per projection, never one call per token). Empty slots hold
 * zeros; their outputs are ignored by the combiner.
 */
export interface ExpertBank {
  /** Number of experts `E`. */
  readonly numExperts: number;
  /** The experts' trainable variables. */
  readonly trainableVariables: tf.Variable[];
  /** The per-token output shape for a per-token input shape (e.g. `[D]` → `[D']`); default: unchanged. */
  outputFeatureShape?(inputFeatureShape: number[]): number[];
  /** Applies every expert to its own buffer: `[E, C, ...in]` → `[E, C, ...out]`. */
  apply(dispatched: tf.Tensor, options: ExpertApplyOptions): tf.Tensor;
  /**
   * Optional grouped execution: `rows` `[N, ...in]` sorted by expert, expert `e` owning the next
   * `groupSizes[e]` rows (possibly 0) → `[N, ...out]`. No padding is multiplied; a bank offering it
   * lets {@link MixtureOfExperts} run with `layout: 'grouped'`.
   */
  applyGrouped?(rows: tf.Tensor, groupSizes: number[], options: ExpertApplyOptions): tf.Tensor;
  /** What the bank can do beyond its contract (`'selectExperts'` for expert pruning). See {@link Capability}. */
  readonly capabilities?: ReadonlySet<Capability>;
  /**
   * The per-token input shape the weights were built for (`[D]`), once known (`undefined` before a lazy
   * build). Optional: when given, {@link MixtureOfExperts.build} rejects an input of another shape at
   * build time (in `MoELayer`: when the layer is added to a model), naming the MoE and both shapes. A
   * bank that reports fewer axes than the input's per-token shape acts on its trailing axes (an FFN
   * built for `[D]` takes whole samples `[S, D]` position by position).
   */
  readonly inputFeatureShape?: readonly number[] | undefined;
  /** Creates the weights for per-token inputs of shape `inputFeatureShape` (e.g. `[D]`), if the bank builds lazily (a no-op once built). */
  build?(inputFeatureShape: number[]): void;
  /** Releases the experts' variables. */
  dispose(): void;
}
