import * as tf from '@tensorflow/tfjs-core';
import type { ExpertBank } from '../contracts/expert-bank.js';
import { checkExpertSelection, copyExpertSlices } from '../routers/expert-selection.js';
import { applyPerGroup, perExpert } from '../dispatch/per-expert.js';
import { checkRank, checkShape } from '../util/validate.js';
import { arg, type ArgsTable } from '../components/args-table.js';
import type { Capability } from '../components/capabilities.js';
import { Component } from '../components/component.js';

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
export class LinearExpertBank extends Component<LinearExpertBankArgs> implements ExpertBank {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'LinearExpertBank';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<LinearExpertBankArgs> = {
    numExperts: arg.integer({ min: 1 }),
    inputDim: arg.integer({ min: 1 }),
    outputDim: arg.integer({ min: 1, defaultFrom: (r) => r['inputDim'] as number }),
    weights: arg.value<number[][][]>({ optional: true }),
    seed: arg.number({ default: 0 }),
  };
  /** Selects experts. */
  static readonly capabilities: readonly Capability[] = ['selectExperts'];

  /** Creates the weights `[E, D, D']`. */
  constructor(args: LinearExpertBankArgs) {
    super(args);
    const { numExperts, inputDim, outputDim, weights, seed } = this.config;
    const shape: [number, number, number] = [numExperts, inputDim, outputDim!];
    this.addVariable('kernel', weights ? tf.tensor3d(weights, shape) : tf.randomUniform(shape, -1 / Math.sqrt(inputDim), 1 / Math.sqrt(inputDim), 'float32', seed));
  }

  /** `E`. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /** The per-token input shape `[D]` the weights take. */
  get inputFeatureShape(): number[] {
    return [this.config.inputDim];
  }

  /** `[E, D, D']` weights. */
  get kernel(): tf.Variable {
    return this.variable('kernel', 'LinearExpertBank.kernel');
  }

  /** A bank of `E` identity maps of width `D`. */
  static identity(numExperts: number, dim: number): LinearExpertBank {
    const eye = Array.from({ length: dim }, (_, i) => Array.from({ length: dim }, (_, j) => (i === j ? 1 : 0)));
    return new LinearExpertBank({ numExperts, inputDim: dim, weights: Array.from({ length: numExperts }, () => eye) });
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
    const { weights: _weights, ...rest } = this.config;
    const bank = new LinearExpertBank({ ...rest, numExperts: keep.length });
    copyExpertSlices(bank.kernel, this.kernel, keep, 0);
    return bank;
  }

  /** The arguments without explicit weights (those travel with the model's weights). */
  override getConfig(): tf.serialization.ConfigDict {
    const { weights: _weights, ...rest } = super.getConfig();
    return rest;
  }
}
