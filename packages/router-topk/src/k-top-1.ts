import * as tf from '@tensorflow/tfjs-core';
import {
  arg,
  checkRank,
  checkShape,
  chosenExpertsMask,
  Component,
  MoEArgumentError,
  oneHotFloat,
  withoutGradient,
  type ArgsTable,
  type RouteOptions,
  type RoutingAlgorithm,
  type TokenChoiceOutput,
} from '@moekit/core';

/** Configuration of a {@link KTop1Choice}. */
export interface KTop1ChoiceArgs {
  /** Experts `E` (≥ 1), a multiple of `k`. */
  numExperts: number;
  /** Prototypes (groups) `k` (≥ 1): `E` is split into `k` contiguous groups of `E/k` experts, each token takes one expert per group. Default 2. */
  k?: number;
  /**
   * Weight of the load-balancing loss: Switch's `(E/k)·Σ_i f_i·P_i` computed inside each prototype and
   * summed over the `k` prototypes (HetuMoE `KTop1Gate.balance_loss`). Default 0.01.
   */
  loadBalancingWeight?: number;
}

/** A {@link KTop1Choice}'s arguments with every default filled in. */
export interface KTop1ChoiceConfig {
  /** Experts `E`. */
  numExperts: number;
  /** Prototypes `k`. */
  k: number;
  /** Weight of the load-balancing loss. */
  loadBalancingWeight: number;
}

/**
 * Expert prototyping, "k top-1" routing (Yang et al. 2021, *M6-T: Exploring Sparse Expert Models and
 * Beyond*, https://arxiv.org/abs/2105.15082, §3 "expert prototyping"), as a {@link RoutingAlgorithm}:
 * the `E` experts are split into `k` prototypes (contiguous groups of `E/k`); inside each prototype a
 * softmax over its experts' logits and top-1 routing, so every token goes to exactly one expert of each
 * prototype — `k` experts in all, at top-k's cost, but with `k` independent Switch-style decisions.
 *
 * Pinned to HetuMoE's `ktop1gating` (PKU-DAIR/Hetu `hetu/v1/python/hetu/layers/KTop1Gate.py`, commit
 * 9e47240d): prototype `g` holds experts `[g·E/k, (g+1)·E/k)`; the gate of the chosen expert is its
 * softmax probability *within its prototype* (not renormalised over the `k` choices, so the `k` gates
 * sum to between 1 and `k`); the load-balancing loss is Switch's `(E/k)·Σ f·P` of each prototype, summed.
 * The M6-T paper sums the `k` prototype outputs (its Eq. for `y = Σ_i g_i·E_i(x)` per prototype), which
 * is what core's combine does with these gates (`renormalize: 'none'`, the default).
 *
 * Choice `g` of a token is its prototype-`g` expert (choice-major slot order places every prototype's
 * choice 0 first, as HetuMoE's locations do per prototype). Ties go to the lower expert. The selection
 * runs off the gradient tape; the gate learns through the gates and the loss. No host read.
 *
 * @example
 * ```ts
 * import { GatedRouter, LinearGate } from '@moekit/core';
 * import { KTop1Choice } from '@moekit/router-topk';
 *
 * // 8 experts as 4 prototypes of 2: every token reaches one expert of each prototype
 * const router = new GatedRouter({ gate: new LinearGate({ numOutputs: 8 }), algorithm: new KTop1Choice({ numExperts: 8, k: 4 }) });
 * ```
 */
export class KTop1Choice extends Component<KTop1ChoiceArgs, KTop1ChoiceConfig> implements RoutingAlgorithm {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'KTop1Choice';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<KTop1ChoiceArgs> = {
    numExperts: arg.integer({ min: 1 }),
    k: arg.value<number>({
      default: 2,
      expected: 'a divisor of numExperts',
      check: (where, name, value, resolved) => {
        const numExperts = resolved['numExperts'] as number;
        if (!Number.isInteger(value) || value < 1 || value > numExperts) {
          throw new MoEArgumentError(where, name, `an integer in [1, ${numExperts}]`, String(value));
        }
        if (numExperts % value !== 0) throw new MoEArgumentError(where, name, `a divisor of numExperts (${numExperts})`, String(value));
      },
    }),
    loadBalancingWeight: arg.number({ min: 0, default: 0.01 }),
  };

  /** Experts `E`. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /** Choices per token `K` = prototypes `k`. */
  get k(): number {
    return this.config.k;
  }

  /**
   * `[T, E]` logits → one expert per prototype `[T, k]`, their within-prototype softmax gates as `probs`
   * `[T, E]`, and the summed per-prototype load-balancing loss. The caller owns everything returned.
   */
  route(logits: tf.Tensor2D, options: RouteOptions): TokenChoiceOutput {
    const where = 'KTop1Choice.route';
    this.assertLive(where);
    void options; // no noise, no state: training and evaluation route alike
    checkRank(where, 'logits', logits, 2);
    checkShape(where, 'logits', logits, [logits.shape[0], this.numExperts]);
    const { numExperts, k, loadBalancingWeight } = this.config;
    const m = numExperts / k; // experts per prototype
    const numTokens = logits.shape[0];
    return tf.tidy(() => {
      const u = tf.cast(logits, 'float32') as tf.Tensor2D; // [T, E]
      const grouped = tf.reshape(u, [numTokens, k, m]) as tf.Tensor3D; // [T, k, E/k]
      const groupProbs = tf.softmax(grouped) as tf.Tensor3D; // [T, k, E/k] softmax inside each prototype (M6-T §3; HetuMoE ktop1gating)
      // top-1 inside each prototype, then offset to global expert ids: prototype g holds [g·E/k, (g+1)·E/k)
      const local = withoutGradient(grouped, (g) => tf.argMax(g, 2)) as tf.Tensor2D; // [T, k] int32
      const expertIndex = withoutGradient(local, (l) => tf.add(l, tf.range(0, numExperts, m, 'int32'))) as tf.Tensor2D; // [T, k]
      const keep = chosenExpertsMask(expertIndex, numExperts); // [T, E] 1 at the k chosen experts
      const probs = tf.mul(tf.reshape(groupProbs, [numTokens, numExperts]), keep) as tf.Tensor2D; // [T, E] gate = within-prototype probability
      // Switch's load-balancing loss (Fedus et al. 2021, Eq. 4) inside each prototype, summed over the k prototypes
      // (HetuMoE: Σ_g (E/k)·Σ_e mean_t(P_g)_e · mean_t(mask_g)_e)
      const meanProbs = tf.mean(groupProbs, 0); // [k, E/k] P
      const fraction = tf.mean(oneHotFloat(local, m), 0); // [k, E/k] f
      const loadBalancing = numTokens === 0 ? tf.scalar(0) : (tf.mul(m, tf.sum(tf.mul(meanProbs, fraction))) as tf.Scalar);
      const total = tf.mul(loadBalancingWeight, loadBalancing) as tf.Scalar;
      return { logits: tf.clone(u), probs, expertIndex, auxLosses: { total, loadBalancing } };
    });
  }
}

/** Creates a {@link KTop1Choice}, mirroring `tf.layers.dense(args)`. */
export function kTop1Choice(args: KTop1ChoiceArgs): KTop1Choice {
  return new KTop1Choice(args);
}
