import * as tf from '@tensorflow/tfjs-core';
import { isSparsePlan, type RoutingPlan } from '../contracts/routing-plan.js';
import { MoEArgumentError } from '../util/errors.js';
import { SeedStream } from '../util/seed-stream.js';
import { checkOneOf, describe, rejectUnknownOptions } from '../util/validate.js';

/**
 * Where an output mask's `1 − p` scale goes: `'inverted'` — kept values are divided by `1 − p` in
 * training, evaluation is the identity (PyTorch's `nn.Dropout`); `'fairseq'` — training masks without
 * rescaling and evaluation multiplies by `1 − p` (fairseq's NLLB `MOELayer` `tok_dropout`). The two
 * differ only by a constant factor on the masked output, which a trained output projection absorbs.
 */
export type OutputMaskScaling = 'inverted' | 'fairseq';

/** Configuration of an {@link ExpertOutputMasking}. */
export interface ExpertOutputMaskingArgs {
  /** Fraction `p_eom` of (token, expert) pairs whose expert output is dropped, in [0, 1). Default 0.2 (NLLB's `--moe-eom 0.2`). */
  rate?: number;
  /** Seed of the masks: a seeded masking draws a fresh mask each call, the same sequence every run. Default unseeded. */
  seed?: number;
  /** Where the `1 − p` scale goes (see {@link OutputMaskScaling}). Default `'inverted'`. */
  scaling?: OutputMaskScaling;
}

/** An {@link ExpertOutputMasking}'s validated configuration, defaults filled in (what an MoE saves). */
export interface ExpertOutputMaskingConfig {
  /** Fraction of pairs dropped in training. */
  rate: number;
  /** Seed of the masks, if any. */
  seed?: number;
  /** Where the `1 − p` scale goes. */
  scaling: OutputMaskScaling;
}

const KNOWN = ['rate', 'seed', 'scaling'];

/**
 * Validates an output masking's arguments (`rate` in [0, 1), a finite `seed`, a known `scaling`;
 * unknown keys rejected by name) and fills in `defaultRate`.
 */
export function resolveOutputMasking(where: string, args: ExpertOutputMaskingArgs | undefined, defaultRate: number): ExpertOutputMaskingConfig {
  if (typeof args !== 'object' || args === null) throw new MoEArgumentError(where, 'args', '{ rate?, seed?, scaling? }', describe(args));
  rejectUnknownOptions(where, args, KNOWN);
  const rate = args.rate ?? defaultRate;
  if (!(typeof rate === 'number' && rate >= 0 && rate < 1)) throw new MoEArgumentError(where, 'rate', 'a fraction in [0, 1)', describe(rate));
  if (args.seed !== undefined && !(typeof args.seed === 'number' && Number.isFinite(args.seed))) throw new MoEArgumentError(where, 'seed', 'a finite number', describe(args.seed));
  const scaling = args.scaling ?? 'inverted';
  checkOneOf(where, 'scaling', scaling, ['inverted', 'fairseq']);
  return { rate, ...(args.seed !== undefined ? { seed: args.seed } : {}), scaling };
}

/**
 * Scales `values` by a keep mask: in training `values · keep` (`'fairseq'`) or `values · keep / (1 − p)`
 * (`'inverted'`); at evaluation `values` (`'inverted'`) or `values · (1 − p)` (`'fairseq'`). `keep` is
 * 0/1 and broadcasts against `values`. The pure part of EOM and FOM, for tests with a fixed mask.
 */
export function applyOutputMask(values: tf.Tensor, keep: tf.Tensor | undefined, rate: number, scaling: OutputMaskScaling, training: boolean): tf.Tensor {
  return tf.tidy(() => {
    if (!training) return scaling === 'fairseq' && rate > 0 ? tf.mul(values, 1 - rate) : tf.clone(values);
    if (keep === undefined || rate === 0) return tf.clone(values);
    const masked = tf.mul(values, keep);
    return scaling === 'inverted' ? tf.div(masked, 1 - rate) : masked;
  });
}

/** A 0/1 float32 keep mask of `shape`, each entry kept with probability `1 − rate` (drawn on the device from `seed`). */
export function drawKeepMask(shape: number[], rate: number, seed: number | undefined): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.greaterEqual(tf.randomUniform(shape, 0, 1, 'float32', seed), rate), 'float32'));
}

/**
 * Expert Output Masking (EOM; NLLB Team 2022, "No Language Left Behind", §6.2.2; Elbayad et al. 2023,
 * "Fixing MoE Over-Fitting on Low-Resource Languages in Multilingual Machine Translation", Findings of
 * ACL, §3.1): in training, the expert output of a random fraction `p_eom` of the (token, expert) pairs is
 * dropped, each pair independently — with top-2 a token may lose one expert, both or neither. A token
 * that loses every expert passes on 0, so only its residual carries it.
 *
 * As in fairseq's `MOELayer` (`fairseq/modules/moe/moe_layer.py` at
 * facebookresearch/fairseq@26d62ae, `tok_dropout`: a mask over `expert_output.shape[:-1]`, the buffer
 * slots, i.e. the pairs, applied before `combine_weights`), the mask acts on a pair's expert output
 * before the gate weighting; since the combine is linear (`y_t = Σ_k G_{t,k} · E_{i_k}(x_t)`, Shazeer et
 * al. 2017, Eq. 1) moekit applies it to the plan's combine weights `[P0, P1]` (one per pair), which is the
 * same output, independent of the buffer layout, and leaves load and drops untouched (the experts still
 * ran). A Soft MoE plan's combine weights `[groups, G, E·S]` are masked per (token, slot) likewise.
 * Never drawn at evaluation; no host read.
 *
 * @example
 * ```ts
 * const moe = new MixtureOfExperts({ router, experts, expertOutputMasking: { rate: 0.2, seed: 7 } });
 * ```
 */
export class ExpertOutputMasking {
  /** The validated configuration. */
  readonly config: Readonly<ExpertOutputMaskingConfig>;
  private readonly seeds: SeedStream;

  /** Validates `args` (see {@link resolveOutputMasking}); `where` names the owner in errors. */
  constructor(args: ExpertOutputMaskingArgs = {}, where = 'ExpertOutputMasking') {
    this.config = resolveOutputMasking(where, args, 0.2);
    this.seeds = new SeedStream(this.config.seed);
  }

  /**
   * A copy of the plan with new combine weights, masked (training) or rescaled (`'fairseq'`
   * evaluation); the plan itself and its tensors are left as they are (its owner disposes of them, the
   * caller of the new weights). The same plan when nothing changes.
   */
  maskPlan(plan: RoutingPlan, training: boolean): RoutingPlan {
    const { rate, scaling } = this.config;
    if (rate === 0 || (!training && scaling === 'inverted')) return plan;
    if (isSparsePlan(plan)) {
      const weights = plan.combineWeight; // [P0, P1]
      const keep = training ? drawKeepMask(weights.shape, rate, this.seeds.next()) : undefined; // [P0, P1]
      const masked = applyOutputMask(weights, keep, rate, scaling, training) as tf.Tensor2D;
      keep?.dispose();
      return { ...plan, combineWeight: masked };
    }
    const weights = plan.combineWeights; // [groups, G, E·S]
    const keep = training ? drawKeepMask(weights.shape, rate, this.seeds.next()) : undefined;
    const masked = applyOutputMask(weights, keep, rate, scaling, training) as tf.Tensor3D;
    keep?.dispose();
    return { ...plan, combineWeights: masked };
  }
}
