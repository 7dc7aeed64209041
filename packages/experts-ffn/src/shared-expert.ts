import * as tf from '@tensorflow/tfjs-core';
import { Component, MoEArgumentError, type ArgsTable, type ExpertApplyOptions, type SharedBranch } from '@moekit/core';
import { FeedForwardExperts, type FeedForwardExpertsArgs, type FeedForwardExpertsConfig } from './feed-forward-experts.js';

/** Configuration of a {@link SharedExpert}: one FFN's sizes and options (`inputDim` optional: built from the first input). */
export type SharedExpertArgs = Omit<FeedForwardExpertsArgs, 'numExperts'>;

const { numExperts: _numExperts, ...sharedExpertArgsTable } = FeedForwardExperts.argsTable;

/**
 * An always-on dense FFN beside the routed experts, its output added to theirs: DeepSpeed's
 * residual MoE (Rajbhandari et al. 2022, https://arxiv.org/abs/2201.05596, §4.1) and the shared
 * experts of ScMoE / DeepSeekMoE. Pass it as `MixtureOfExperts({ shared })`. It is one
 * {@link FeedForwardExperts} expert applied to every token; its weights are saved as `w1`, `b1`, ….
 *
 * @example
 * ```ts
 * import { MixtureOfExperts } from '@moekit/core';
 * import { SharedExpert } from '@moekit/experts-ffn';
 *
 * const moe = new MixtureOfExperts({ router, experts, shared: new SharedExpert({ inputDim: 512, hiddenDim: 2048 }) });
 * ```
 */
export class SharedExpert extends Component<SharedExpertArgs, Omit<FeedForwardExpertsConfig, 'numExperts'>> implements SharedBranch {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'SharedExpert';
  /** The arguments: {@link FeedForwardExperts}'s but `numExperts`. */
  static readonly argsTable: ArgsTable<SharedExpertArgs> = sharedExpertArgsTable;
  /** The single FFN. */
  readonly ffn: FeedForwardExperts;

  /** Validates the arguments; draws the FFN's weights now if `inputDim` is given. */
  constructor(args: SharedExpertArgs) {
    if (typeof args === 'object' && args !== null && 'numExperts' in args) {
      throw new MoEArgumentError('SharedExpert', 'numExperts', 'absent (a shared expert is one FFN)', String((args as { numExperts: unknown }).numExperts));
    }
    super(args);
    this.ffn = this.addPart('ffn', new FeedForwardExperts({ ...this.config, numExperts: 1 }));
  }

  /** Draws the FFN's weights for per-token inputs `[D]`; a no-op once built. */
  build(inputFeatureShape: number[]): void {
    this.assertLive('SharedExpert.build');
    this.ffn.build(inputFeatureShape);
  }

  /** `[T, D]` → `[T, D']` for every token. */
  apply(tokens: tf.Tensor, options: ExpertApplyOptions): tf.Tensor {
    this.assertLive('SharedExpert.apply');
    if (tokens.rank !== 2) throw new MoEArgumentError('SharedExpert.apply', 'tokens', 'rank 2 [T, D]', `shape [${tokens.shape.join(', ')}]`);
    return tf.tidy(() => tf.squeeze(this.ffn.apply(tf.expandDims(tokens, 0), options), [0]));
  }

}
