import * as tf from '@tensorflow/tfjs-core';
import {
  arg,
  checkRank,
  checkShape,
  Component,
  MoEArgumentError,
  oneHotFloat,
  selectTopK,
  withoutGradient,
  type ArgsTable,
  type RouteOptions,
  type RoutingAlgorithm,
  type TokenChoiceOutput,
} from '@moekit/core';

/** Configuration of a {@link SwitchAndMixtureChoice}. */
export interface SwitchAndMixtureChoiceArgs {
  /** Experts `E` (≥ 1), a multiple of `numGroups`. */
  numExperts: number;
  /** Groups `G` (HetuMoE: the machines, `num_local_gpus`): contiguous blocks of `E/G` experts. */
  numGroups: number;
  /** Experts chosen inside the chosen group `K`, in `[1, E/G]`. Default 2. */
  k?: number;
  /** Weight of the load-balancing loss `Σ_{i<K} E·Σ_e P_e·f_{i,e}` (HetuMoE `samgating`'s `l_aux`). Default 0.01. */
  loadBalancingWeight?: number;
  /**
   * Weight of the alignment loss: the mean over tokens of `Σ_{j ∉ group} max(0, p_j − p_(K))`, the
   * probability mass of experts outside the chosen group that beat the K-th chosen one (HetuMoE's
   * `l_alignment`, summed there over the batch). Default 0.01.
   */
  alignmentWeight?: number;
}

/** A {@link SwitchAndMixtureChoice}'s arguments with every default filled in. */
export interface SwitchAndMixtureChoiceConfig {
  /** Experts `E`. */
  numExperts: number;
  /** Groups `G`. */
  numGroups: number;
  /** Experts chosen inside the group `K`. */
  k: number;
  /** Weight of the load-balancing loss. */
  loadBalancingWeight: number;
  /** Weight of the alignment loss. */
  alignmentWeight: number;
}

/**
 * HetuMoE's "Switch and Mixture" (SAM) gate as a {@link RoutingAlgorithm} (Nie et al. 2022, *HetuMoE:
 * An Efficient Trillion-scale Mixture-of-Expert Distributed Training System*,
 * https://arxiv.org/abs/2203.14685, §3; code: PKU-DAIR/Hetu `hetu/v1/python/hetu/layers/SAMGate.py` and
 * the kernels `src/ops/SamGroupSum.cu`, `GroupTopKIdx.cu`, `SamMax.cu`, commit 9e47240d): a hierarchical
 * top-k that keeps every token's experts on one machine. With `p = softmax(logits)` over all `E`:
 *
 * 1. *switch*: the group `g* = argmax_g Σ_{e ∈ g} p_e` (the `E/G` experts of one machine, summed);
 * 2. *mixture*: the top-`K` experts of `p` inside `g*`, each with its gate `p_e` (the full softmax's
 *    value, not renormalised, as HetuMoE's `gates_s`);
 * 3. losses: `l_aux = Σ_{i<K} E·Σ_e mean_t(p)_e·mean_t(mask_i)_e` (Switch's loss for every choice,
 *    summed), and the alignment loss `Σ_{j ∉ g*} max(0, p_j − p_(K))`, `p_(K)` the K-th chosen gate,
 *    which pushes down experts outside the group that a flat top-k would have chosen. As in HetuMoE's
 *    `SamMax` gradient kernel, the threshold `p_(K)` carries no gradient.
 *
 * Differences from the reference, on purpose: the alignment loss is averaged over tokens (HetuMoE sums
 * it over the batch); both weights default to 0.01 (HetuMoE adds both with weight 1). HetuMoE's kernels
 * read the group width as `num_local_gpus` in `GroupTopKIdx`/`SamMax` but as `E / num_local_gpus` in
 * `SamGroupSum`; the two agree only when `E = G²` (its example: 8 GPUs × 8 local experts). Here every
 * step uses `G` groups of `E/G`, which is that example's reading.
 *
 * Choice `i` of a token is its `i`-th best expert in the group. Ties go to the lower index. The
 * selection runs off the gradient tape; no host read.
 *
 * @example
 * ```ts
 * import { GatedRouter, LinearGate } from '@moekit/core';
 * import { SwitchAndMixtureChoice } from '@moekit/router-topk';
 *
 * // 16 experts on 4 machines: each token picks a machine, then its top-2 experts there
 * const router = new GatedRouter({ gate: new LinearGate({ numOutputs: 16 }), algorithm: new SwitchAndMixtureChoice({ numExperts: 16, numGroups: 4, k: 2 }) });
 * ```
 */
export class SwitchAndMixtureChoice extends Component<SwitchAndMixtureChoiceArgs, SwitchAndMixtureChoiceConfig> implements RoutingAlgorithm {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'SwitchAndMixtureChoice';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<SwitchAndMixtureChoiceArgs> = {
    numExperts: arg.integer({ min: 1 }),
    numGroups: arg.value<number>({
      expected: 'a divisor of numExperts',
      check: (where, name, value, resolved) => {
        const numExperts = resolved['numExperts'] as number;
        if (!Number.isInteger(value) || value < 1 || numExperts % value !== 0) {
          throw new MoEArgumentError(where, name, `a divisor of numExperts (${numExperts})`, String(value));
        }
      },
    }),
    k: arg.integer({ min: 1, max: (r) => (r['numExperts'] as number) / (r['numGroups'] as number), default: 2 }),
    loadBalancingWeight: arg.number({ min: 0, default: 0.01 }),
    alignmentWeight: arg.number({ min: 0, default: 0.01 }),
  };

  /** Experts `E`. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /** Choices per token `K`. */
  get k(): number {
    return this.config.k;
  }

  /**
   * `[T, E]` logits → the top-`K` experts of each token's best group `[T, K]`, their softmax gates as
   * `probs` `[T, E]`, the load-balancing and alignment losses. The caller owns everything returned.
   */
  route(logits: tf.Tensor2D, options: RouteOptions): TokenChoiceOutput {
    const where = 'SwitchAndMixtureChoice.route';
    this.assertLive(where);
    void options; // no noise, no state
    checkRank(where, 'logits', logits, 2);
    checkShape(where, 'logits', logits, [logits.shape[0], this.numExperts]);
    const { numExperts, numGroups, k, loadBalancingWeight, alignmentWeight } = this.config;
    const m = numExperts / numGroups; // experts per group
    const numTokens = logits.shape[0];
    return tf.tidy(() => {
      const u = tf.cast(logits, 'float32') as tf.Tensor2D; // [T, E]
      const p = tf.softmax(u) as tf.Tensor2D; // [T, E] p over all experts (HetuMoE samgating)
      const groupSum = tf.sum(tf.reshape(p, [numTokens, numGroups, m]), 2) as tf.Tensor2D; // [T, G] SamGroupSum
      const group = withoutGradient(groupSum, (s) => tf.argMax(s, 1)); // [T] int32 the switch: one group per token
      const inGroup = withoutGradient(group, (g) => tf.reshape(tf.tile(tf.expandDims(oneHotFloat(g, numGroups), 2), [1, 1, m]), [numTokens, numExperts])); // [T, E]
      // the mixture: top-K of the logits (p's order) inside the group (GroupTopKIdx)
      const expertIndex = selectTopK(tf.add(u, tf.mul(tf.sub(1, inGroup), -1e9)) as tf.Tensor2D, k); // [T, K]
      const choiceMasks = oneHotFloat(expertIndex, numExperts); // [T, K, E]
      const probs = tf.mul(p, tf.sum(choiceMasks, 1)) as tf.Tensor2D; // [T, E] gates p_e at the chosen experts
      if (numTokens === 0) {
        const zero = tf.scalar(0);
        return { logits: tf.clone(u), probs, expertIndex, auxLosses: { total: tf.clone(zero), loadBalancing: tf.clone(zero), alignment: zero } };
      }
      // l_aux = Σ_{i<K} E·Σ_e mean_t(p)_e · mean_t(mask_i)_e (Switch Eq. 4 per choice, summed; HetuMoE balance_loss)
      const loadBalancing = tf.mul(numExperts, tf.sum(tf.mul(tf.mean(p, 0), tf.sum(tf.mean(choiceMasks, 0), 0)))) as tf.Scalar;
      // alignment: Σ_{j ∉ g*} max(0, p_j − p_(K)), p_(K) the K-th chosen gate, off the tape (HetuMoE SamMax and its gradient)
      const kth = withoutGradient(p, (q) => tf.sum(tf.mul(q, tf.squeeze(tf.slice(choiceMasks, [0, k - 1, 0], [numTokens, 1, numExperts]), [1])), 1, true)); // [T, 1]
      const alignment = tf.mean(tf.sum(tf.mul(tf.relu(tf.sub(p, kth)), tf.sub(1, inGroup)), 1)) as tf.Scalar; // mean over tokens
      const total = tf.add(tf.mul(loadBalancingWeight, loadBalancing), tf.mul(alignmentWeight, alignment)) as tf.Scalar;
      return { logits: tf.clone(u), probs, expertIndex, auxLosses: { total, loadBalancing, alignment } };
    });
  }
}

/** Creates a {@link SwitchAndMixtureChoice}, mirroring `tf.layers.dense(args)`. */
export function switchAndMixtureChoice(args: SwitchAndMixtureChoiceArgs): SwitchAndMixtureChoice {
  return new SwitchAndMixtureChoice(args);
}
