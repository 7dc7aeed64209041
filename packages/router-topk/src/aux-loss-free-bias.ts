import * as tf from '@tensorflow/tfjs-core';
import { checkFiniteNumber, checkInteger, checkNonNegative, checkShape, EXCLUDED_LOGIT, MoEArgumentError, offTape, oneHotFloat } from '@moekit/core';

/** Configuration of an {@link AuxLossFreeBias}. */
export interface AuxLossFreeBiasArgs {
  /** Experts `E` (≥ 1). */
  numExperts: number;
  /** Update rate `u` (≥ 0; Wang et al. and DeepSeek-V3 use 1e-3); 0 keeps the bias fixed. */
  updateRate: number;
  /** The starting bias, `E` finite numbers. Default zeros (Algorithm 1 line 1). */
  initial?: readonly number[];
}

/**
 * The per-expert selection bias of auxiliary-loss-free load balancing (Wang et al. 2024,
 * "Auxiliary-Loss-Free Load Balancing Strategy for Mixture-of-Experts", https://arxiv.org/abs/2408.15664,
 * Algorithm 1; DeepSeek-V3, https://arxiv.org/abs/2412.19437, §2.1.2 Eq. 16): experts are chosen by
 * the top-k of `s + b` while the gates stay `s` (Eq. 3 of Wang et al.), and after each training step
 * `b_i ← b_i + u · sign(c̄ − c_i)`, `c_i` the tokens that chose expert `i` in that step and `c̄` their
 * mean over the experts. An overloaded expert's bias falls, an idle one's rises; no gradient is involved.
 *
 * The bias `b` `[E]` is a non-trainable `tf.Variable` updated on the device ({@link AuxLossFreeBias.update}
 * reads nothing back to the host). `c_i` counts every one of a token's `K` choices (`-1`, an unused
 * choice, counts for no expert) — the demand, before core's capacity drops any pair, as in the paper
 * where training is dropless.
 *
 * @example
 * ```ts
 * import { selectTopK } from '@moekit/core';
 * import { AuxLossFreeBias } from '@moekit/router-topk';
 *
 * const bias = new AuxLossFreeBias({ numExperts: 8, updateRate: 1e-3 });
 * const chosen = selectTopK(bias.biasedScores(scores, logits), 2); // [T, 2], off the tape
 * bias.update(chosen); // b += u · sign(mean load − load)
 * ```
 */
export class AuxLossFreeBias {
  /** Experts `E`. */
  readonly numExperts: number;
  /** The update rate `u` (Wang et al.: 1e-3; DeepSeek-V3's bias update speed γ = 0.001); 0 keeps the bias fixed. */
  readonly updateRate: number;
  /** `[E]` float32 bias `b`, a non-trainable variable (`trainable: false`: no optimiser touches it). */
  readonly variable: tf.Variable;

  /** Validates the arguments and creates `b` from `initial` (default zeros, Algorithm 1 line 1). */
  constructor(args: AuxLossFreeBiasArgs) {
    const where = 'AuxLossFreeBias';
    checkInteger(where, 'numExperts', args.numExperts, 1);
    checkNonNegative(where, 'updateRate', args.updateRate);
    if (args.initial !== undefined) {
      if (!Array.isArray(args.initial) || args.initial.length !== args.numExperts) {
        throw new MoEArgumentError(where, 'initial', `${args.numExperts} numbers (one per expert)`, Array.isArray(args.initial) ? `${args.initial.length} numbers` : String(args.initial));
      }
      args.initial.forEach((b, i) => checkFiniteNumber(where, `initial[${i}]`, b));
    }
    this.numExperts = args.numExperts;
    this.updateRate = args.updateRate;
    this.variable = tf.tidy(() => tf.variable(args.initial === undefined ? tf.zeros([args.numExperts]) : tf.tensor1d(Array.from(args.initial), 'float32'), false));
  }

  /**
   * `[T, E]` selection scores `s + b`, off the gradient tape (a decision, never a gate value). Experts
   * excluded by the gate (`logits` at {@link EXCLUDED_LOGIT}) stay at `EXCLUDED_LOGIT`, so no bias can
   * choose them.
   */
  biasedScores(scores: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor2D {
    checkShape('AuxLossFreeBias.biasedScores', 'scores', scores, [scores.shape[0], this.numExperts]);
    checkShape('AuxLossFreeBias.biasedScores', 'logits', logits, scores.shape as number[]);
    return offTape(() => tf.tidy(() => {
      const biased = tf.add(scores, this.variable); // [T, E] s + b (Wang et al. Eq. 3, DeepSeek-V3 Eq. 16)
      return tf.where(tf.lessEqual(logits, EXCLUDED_LOGIT), tf.scalar(EXCLUDED_LOGIT), biased) as tf.Tensor2D;
    }));
  }

  /** `[E]` tokens choosing each expert among `expertIndex` `[T, K]` (int32, `-1` counts for none), on the device. */
  load(expertIndex: tf.Tensor2D): tf.Tensor1D {
    return offTape(() => tf.tidy(() => tf.sum(oneHotFloat(expertIndex, this.numExperts), [0, 1]) as tf.Tensor1D)); // [E] c_i
  }

  /**
   * One step of Algorithm 1 (lines 4-6): `c_i` = the choices of expert `i` in `expertIndex` `[T, K]`,
   * `e_i = c̄ − c_i`, `b_i ← b_i + u · sign(e_i)`. On the device, off the gradient tape, no host read.
   * Call it once per training step, after the step's selection.
   */
  update(expertIndex: tf.Tensor2D): void {
    if (this.updateRate === 0) return;
    const next = offTape(() => tf.tidy(() => {
      const load = this.load(expertIndex); // [E] c_i
      const violation = tf.sub(tf.mean(load), load); // [E] e_i = c̄ − c_i (Algorithm 1 line 5)
      return tf.add(this.variable, tf.mul(this.updateRate, tf.sign(violation))); // [E] b + u·sign(e) (line 6)
    }));
    this.variable.assign(next);
    next.dispose();
  }

  /** The bias values (one `[E]` host read: for saving, never on the routing path). */
  values(): number[] {
    return Array.from(this.variable.dataSync());
  }

  /** Releases `b`. */
  dispose(): void {
    this.variable.dispose();
  }
}
