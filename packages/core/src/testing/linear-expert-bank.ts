import * as tf from '@tensorflow/tfjs-core';
import type { ExpertBank } from '../expert-bank.js';
import { checkExpertSelection, copyExpertSlices } from '../expert-selection.js';
import { applyPerGroup, perExpert } from '../per-expert.js';
import { checkInteger, checkRank, checkShape } from '../validate.js';

/** Configuration of a {@link LinearExpertBank}. */
export interface LinearExpertBankArgs {
  /** Experts `E`. */
  numExperts: number;
  /** Input width `D`. */
  inputDim: number;
  /** Output width `D'`. Default `inputDim`. */
  outputDim?: number;
  /** `[E][D][D']` initial weights; default uniform in ±1/√D from `seed`. */
  weights?: number[][][];
  /** Seed of the default initialiser. Default 0. */
  seed?: number;
}

/**
 * `E` linear experts `y = x · W_e` applied with one batched matMul `[E, C, D] × [E, D, D']`: the
 * smallest real expert bank, for tests that must not depend on `@moekit/experts-ffn`.
 */
export class LinearExpertBank extends tf.serialization.Serializable implements ExpertBank {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'LinearExpertBank';
  /** `E`. */
  readonly numExperts: number;
  /** `[E, D, D']` weights. */
  readonly kernel: tf.Variable;

  private readonly args: LinearExpertBankArgs;

  /** Creates the weights. */
  constructor(args: LinearExpertBankArgs) {
    super();
    this.args = args;
    checkInteger('LinearExpertBank', 'numExperts', args.numExperts, 1);
    checkInteger('LinearExpertBank', 'inputDim', args.inputDim, 1);
    const outputDim = args.outputDim ?? args.inputDim;
    checkInteger('LinearExpertBank', 'outputDim', outputDim, 1);
    this.numExperts = args.numExperts;
    const shape: [number, number, number] = [args.numExperts, args.inputDim, outputDim];
    const initial = args.weights
      ? tf.tensor3d(args.weights, shape)
      : tf.randomUniform(shape, -1 / Math.sqrt(args.inputDim), 1 / Math.sqrt(args.inputDim), 'float32', args.seed ?? 0);
    this.kernel = tf.variable(initial, true);
    initial.dispose();
  }

  /** A bank of `E` identity maps of width `D`. */
  static identity(numExperts: number, dim: number): LinearExpertBank {
    const eye = Array.from({ length: dim }, (_, i) => Array.from({ length: dim }, (_, j) => (i === j ? 1 : 0)));
    return new LinearExpertBank({ numExperts, inputDim: dim, weights: Array.from({ length: numExperts }, () => eye) });
  }

  /** `[W]`. */
  get trainableVariables(): tf.Variable[] {
    return [this.kernel];
  }

  /** `[E, C, D]` → `[E, C, D']`. */
  apply(dispatched: tf.Tensor): tf.Tensor {
    checkRank('LinearExpertBank.apply', 'dispatched', dispatched, 3);
    const [, capacity] = dispatched.shape;
    checkShape('LinearExpertBank.apply', 'dispatched', dispatched, [this.numExperts, capacity!, this.kernel.shape[1]!]);
    return tf.matMul(dispatched as tf.Tensor3D, this.kernel as tf.Tensor3D);
  }

  /** Grouped rows `[N, D]`, expert `e` owning the next `groupSizes[e]` rows → `[N, D']`. */
  applyGrouped(rows: tf.Tensor, groupSizes: number[]): tf.Tensor {
    checkShape('LinearExpertBank.applyGrouped', 'rows', rows, [groupSizes.reduce((a, b) => a + b, 0), this.kernel.shape[1]!]);
    return tf.tidy(() => {
      const weights = perExpert(this.kernel); // E × [D, D']
      return applyPerGroup(rows, groupSizes, this.kernel.shape[2]!, (group, e) => tf.matMul(group, weights[e] as tf.Tensor2D));
    });
  }

  /** `[D]` → `[D']`. */
  outputFeatureShape(inputFeatureShape: number[]): number[] {
    return [...inputFeatureShape.slice(0, -1), this.kernel.shape[2]!];
  }

  /** A new bank of the experts `keep` (their weights copied exactly); this one is unchanged. */
  selectExperts(keep: readonly number[]): LinearExpertBank {
    checkExpertSelection('LinearExpertBank.selectExperts', keep, this.numExperts);
    const { weights: _weights, ...rest } = this.args;
    const bank = new LinearExpertBank({ ...rest, numExperts: keep.length, outputDim: this.kernel.shape[2]! });
    copyExpertSlices(bank.kernel, this.kernel, keep, 0);
    return bank;
  }

  /** The constructor arguments (without explicit weights: those travel with the model's weights). */
  override getConfig(): tf.serialization.ConfigDict {
    const { weights: _weights, ...rest } = this.args;
    return { ...rest, outputDim: this.kernel.shape[2]! };
  }

  /** Rebuilds the bank (fresh weights) from its config. */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(config);
  }

  /** Releases the weights. */
  dispose(): void {
    this.kernel.dispose();
  }
}
