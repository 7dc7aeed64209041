/**
 * The benchmark's expert bank: `E` two-layer ReLU FFNs, weights `[E, D, H]` and `[E, H, D]`, applied
 * padded (one batched matMul per projection) or grouped (one matMul per expert over its own rows).
 */
import * as tf from '@tensorflow/tfjs';
import { applyPerGroup, groupedMatMul, type ExpertApplyOptions, type ExpertBank } from '@moekit/core';

/** `E` ReLU FFN experts `D → H → D`. */
export class FfnExpertBank implements ExpertBank {
  /** `E`. */
  readonly numExperts: number;
  /** `[E, D, H]`. */
  readonly w1: tf.Variable;
  /** `[E, H, D]`. */
  readonly w2: tf.Variable;

  /** Random weights of the given sizes. */
  constructor(numExperts: number, dim: number, hidden: number, seed = 0) {
    this.numExperts = numExperts;
    this.w1 = tf.tidy(() => tf.variable(tf.randomNormal([numExperts, dim, hidden], 0, 1 / Math.sqrt(dim), 'float32', seed)));
    this.w2 = tf.tidy(() => tf.variable(tf.randomNormal([numExperts, hidden, dim], 0, 1 / Math.sqrt(hidden), 'float32', seed + 1)));
  }

  private inference: { key: object[]; w1: tf.Tensor[]; w2: tf.Tensor[] } | undefined;

  /** `[w1, w2]`. */
  get trainableVariables(): tf.Variable[] {
    return [this.w1, this.w2];
  }

  /** Padded `[E, C, D]` → `[E, C, D]`. */
  apply(dispatched: tf.Tensor, _options?: ExpertApplyOptions): tf.Tensor {
    return tf.tidy(() => tf.matMul(tf.relu(tf.matMul(dispatched as tf.Tensor3D, this.w1 as tf.Tensor3D)), this.w2 as tf.Tensor3D));
  }

  /**
   * Per-expert weight slices for inference, cut once and kept (`tf.keep`) while the weights are
   * unchanged, so the backend may reuse what it derived from them (XNNPACK's packed weights).
   */
  private slices(): { w1: tf.Tensor[]; w2: tf.Tensor[] } {
    const key = [this.w1.dataId, this.w2.dataId];
    if (this.inference === undefined || this.inference.key.some((k, i) => k !== key[i])) {
      this.releaseInference();
      this.inference = { key, w1: tf.unstack(this.w1).map((t) => tf.keep(t)), w2: tf.unstack(this.w2).map((t) => tf.keep(t)) };
    }
    return this.inference;
  }

  private releaseInference(): void {
    if (this.inference) tf.dispose([...this.inference.w1, ...this.inference.w2]);
    this.inference = undefined;
  }

  /**
   * Grouped `[N, D]` → `[N, D]`, expert `e` over its `groupSizes[e]` rows: in training through core's
   * `groupedMatMul` (as `FeedForwardExperts` does), in inference over the kept slices.
   */
  applyGrouped(rows: tf.Tensor, groupSizes: number[], options: ExpertApplyOptions): tf.Tensor {
    return tf.tidy(() => {
      if (options.training) return groupedMatMul(tf.relu(groupedMatMul(rows, this.w1, groupSizes)), this.w2, groupSizes);
      const { w1, w2 } = this.slices();
      return applyPerGroup(rows, groupSizes, this.w2.shape[2]!, (group, e) => tf.matMul(tf.relu(tf.matMul(group, w1[e] as tf.Tensor2D)), w2[e] as tf.Tensor2D));
    });
  }

  /** Releases the weights. */
  dispose(): void {
    this.releaseInference();
    this.w1.dispose();
    this.w2.dispose();
  }
}
