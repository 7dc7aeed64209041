import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError, type ExpertApplyOptions, type SharedBranch } from '@moekit/core';
import { FeedForwardExperts, type FeedForwardExpertsArgs } from './feed-forward-experts.js';

/** Configuration of a {@link SharedExpert}: one FFN's sizes and options. */
export type SharedExpertArgs = Omit<FeedForwardExpertsArgs, 'numExperts'>;

/**
 * An always-on dense FFN beside the routed experts, its output added to theirs: DeepSpeed's
 * residual MoE (Rajbhandari et al. 2022, https://arxiv.org/abs/2201.05596, §4.1) and the shared
 * experts of ScMoE / DeepSeekMoE. Pass it as `MixtureOfExperts({ shared })`. It is one
 * {@link FeedForwardExperts} expert applied to every token.
 *
 * @example
 * ```ts
 * const moe = new MixtureOfExperts({ router, experts, shared: new SharedExpert({ inputDim: 512, hiddenDim: 2048 }) });
 * ```
 */
export class SharedExpert extends tf.serialization.Serializable implements SharedBranch {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'SharedExpert';
  /** The single FFN. */
  readonly ffn: FeedForwardExperts;

  /** Draws the FFN's weights. */
  constructor(args: SharedExpertArgs) {
    super();
    if ('numExperts' in (args as object)) throw new MoEArgumentError('SharedExpert', 'numExperts', 'absent (a shared expert is one FFN)', String((args as unknown as { numExperts: unknown }).numExperts));
    this.ffn = new FeedForwardExperts({ ...args, numExperts: 1 });
  }

  /** The FFN's weights. */
  get trainableVariables(): tf.Variable[] {
    return this.ffn.trainableVariables;
  }

  /** `[T, D]` → `[T, D']` for every token. */
  apply(tokens: tf.Tensor, options: ExpertApplyOptions): tf.Tensor {
    if (tokens.rank !== 2) throw new MoEArgumentError('SharedExpert.apply', 'tokens', 'rank 2 [T, D]', `shape [${tokens.shape.join(', ')}]`);
    return tf.tidy(() => tf.squeeze(this.ffn.apply(tf.expandDims(tokens, 0), options), [0]));
  }

  /** The FFN's arguments. */
  override getConfig(): tf.serialization.ConfigDict {
    const { numExperts: _numExperts, ...rest } = this.ffn.getConfig();
    return rest;
  }

  /** Rebuilds a shared expert (fresh weights) from {@link SharedExpert.getConfig}'s output. */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(config);
  }

  /** Releases the weights. */
  dispose(): void {
    this.ffn.dispose();
  }
}
