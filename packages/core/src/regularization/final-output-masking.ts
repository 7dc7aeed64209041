import * as tf from '@tensorflow/tfjs-core';
import { SeedStream } from '../util/seed-stream.js';
import { applyOutputMask, drawKeepMask, resolveOutputMasking, type ExpertOutputMaskingArgs, type ExpertOutputMaskingConfig } from './expert-output-masking.js';

/** Configuration of a {@link FinalOutputMasking}: `rate` (`p_fom`, default 0.1), `seed`, `scaling` as for EOM. */
export type FinalOutputMaskingArgs = ExpertOutputMaskingArgs;

/** A {@link FinalOutputMasking}'s validated configuration, defaults filled in. */
export type FinalOutputMaskingConfig = ExpertOutputMaskingConfig;

/**
 * Final Output Masking (FOM; Elbayad et al. 2023, "Fixing MoE Over-Fitting on Low-Resource Languages
 * in Multilingual Machine Translation", Findings of ACL, §3.1): in training, the MoE layer's combined
 * output (the experts' weighted sum, plus a shared or conditional dense branch if any) is zeroed for a
 * random fraction `p_fom` of the tokens, all its features at once, so those tokens reach the next
 * sublayer by the residual only. Where EOM drops (token, expert) pairs, FOM drops whole tokens. Never
 * drawn at evaluation; no host read.
 *
 * @example
 * ```ts
 * const moe = new MixtureOfExperts({ router, experts, finalOutputMasking: { rate: 0.1, seed: 7 } });
 * ```
 */
export class FinalOutputMasking {
  /** The validated configuration. */
  readonly config: Readonly<FinalOutputMaskingConfig>;
  private readonly seeds: SeedStream;

  /** Validates `args` (rate in [0, 1), default 0.1); `where` names the owner in errors. */
  constructor(args: FinalOutputMaskingArgs = {}, where = 'FinalOutputMasking') {
    this.config = resolveOutputMasking(where, args, 0.1);
    this.seeds = new SeedStream(this.config.seed);
  }

  /** `output` `[T, ...F']` with a per-token mask `[T, 1, …]` in training (see {@link applyOutputMask}); a new tensor. */
  mask(output: tf.Tensor, training: boolean): tf.Tensor {
    const { rate, scaling } = this.config;
    return tf.tidy(() => {
      const keep = training && rate > 0 ? drawKeepMask([output.shape[0]!, ...output.shape.slice(1).map(() => 1)], rate, this.seeds.next()) : undefined; // [T, 1, …]
      return applyOutputMask(output, keep, rate, scaling, training);
    });
  }
}
