import * as tf from '@tensorflow/tfjs-core';
import { arg, Component, MoEArgumentError, type ArgsTable, type AuxLosses, type ExpertApplyOptions, type SharedBranch, type SharedBranchMix } from '@moekit/core';
import { FeedForwardExperts, type FeedForwardExpertsConfig } from './feed-forward-experts.js';
import type { SharedExpertArgs } from './shared-expert.js';

/** Configuration of a {@link ConditionalMoEBranch}: the dense FFN's sizes (as {@link SharedExpertArgs}) and the CMR gate's options. */
export interface ConditionalMoEBranchArgs extends SharedExpertArgs {
  /** Dropout rate on the CMR gate `g` in training (fairseq `--cmr-gate-drop`; kept gates are divided by `1 − p`). In [0, 1). Default 0. */
  gateDropout?: number;
  /** Target fraction `p` of the budget loss `|mean_t g_t − p|` (fairseq `--cmr-gate-loss-p`). In [0, 1]. Default 1. */
  budget?: number;
  /** Weight of the budget loss in the aux `total` (fairseq `--cmr-gate-loss-wt`). Default 0 (off). */
  budgetWeight?: number;
}

/** A {@link ConditionalMoEBranch}'s arguments with every default filled in. */
export interface ConditionalMoEBranchConfig extends Omit<FeedForwardExpertsConfig, 'numExperts'> {
  /** Dropout rate on the gate. */
  gateDropout: number;
  /** Target fraction of the budget loss. */
  budget: number;
  /** Weight of the budget loss. */
  budgetWeight: number;
}

const { numExperts: _numExperts, ...ffnArgsTable } = FeedForwardExperts.argsTable;

/** What {@link ConditionalMoEBranch.mix} returns: the mixed output and, always, the budget losses. */
export interface ConditionalMoEMix extends SharedBranchMix {
  /** `{ cmrBudget, total }` (unweighted budget loss and its weighted total). */
  auxLosses: AuxLosses;
}

/**
 * Conditional MoE Routing (CMR; NLLB Team 2022, "No Language Left Behind", §6.2.2, Eq. 5; Elbayad et
 * al. 2023 §3.2): a learned per-token scalar gate mixes a dense FFN with the MoE,
 * `y = (1 − g(x))·FFN(x) + g(x)·MoE(x)`, `g(x) = σ(x·w + b)`, so the model learns which tokens need the
 * MoE's extra capacity. Pass it as `MixtureOfExperts({ shared })` (or `MoELayer({ shared })`): the MoE
 * calls {@link ConditionalMoEBranch.mix} instead of adding the branch. Follows fairseq's `CMRGate` /
 * `CMRLayer` (`fairseq/modules/moe/moe_cmr_layer.py` at facebookresearch/fairseq@26d62ae): `w`, `b`
 * a `Linear(D, 1)` with PyTorch's init `U(−1/√D, 1/√D)`; dropout on `g` in training (`nn.Dropout`, so a
 * kept `g` is divided by `1 − p` and may exceed 1); and the budget loss of fairseq's
 * `moe_label_smoothed_cross_entropy`, `|Σ_t g_t / T − p|` (here per layer), reported as the aux part
 * `cmrBudget` and weighted by `budgetWeight` into `total`. Weights are saved as `wg`, `bg` and the
 * FFN's `ffn/w1`, `ffn/b1`, ….
 *
 * @example
 * ```ts
 * import { MixtureOfExperts } from '@moekit/core';
 * import { ConditionalMoEBranch } from '@moekit/experts-ffn';
 *
 * const moe = new MixtureOfExperts({ router, experts, shared: new ConditionalMoEBranch({ hiddenDim: 2048, gateDropout: 0.2 }) });
 * ```
 */
export class ConditionalMoEBranch extends Component<ConditionalMoEBranchArgs, ConditionalMoEBranchConfig> implements SharedBranch {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'ConditionalMoEBranch';
  /** The arguments: {@link FeedForwardExperts}'s but `numExperts`, and the gate's. */
  static readonly argsTable: ArgsTable<ConditionalMoEBranchArgs> = {
    ...(ffnArgsTable as ArgsTable<SharedExpertArgs>),
    gateDropout: arg.number({ min: 0, max: 0.999999, default: 0 }),
    budget: arg.number({ min: 0, max: 1, default: 1 }),
    budgetWeight: arg.number({ min: 0, default: 0 }),
  };
  /** The dense FFN. */
  readonly ffn: FeedForwardExperts;

  /** Validates the arguments; draws the weights now if `inputDim` is given. */
  constructor(args: ConditionalMoEBranchArgs) {
    if (typeof args === 'object' && args !== null && 'numExperts' in args) {
      throw new MoEArgumentError('ConditionalMoEBranch', 'numExperts', 'absent (the dense branch is one FFN)', String((args as { numExperts: unknown }).numExperts));
    }
    super(args);
    const { gateDropout: _d, budget: _b, budgetWeight: _w, ...ffnConfig } = this.config;
    this.ffn = this.addPart('ffn', new FeedForwardExperts({ ...ffnConfig, numExperts: 1 }));
    if (this.config.inputDim !== undefined) this.build([this.config.inputDim]);
  }

  /** The gate's input width `D` once built (`undefined` before). */
  get inputDim(): number | undefined {
    return this.variableShape('wg')?.[0];
  }

  /** Draws the gate `wg` `[D, 1]`, `bg` `[1]` (U(−1/√D, 1/√D), PyTorch's `Linear`) and the FFN for per-token inputs `[D]`; a no-op once built. */
  build(inputFeatureShape: number[]): void {
    this.assertLive('ConditionalMoEBranch.build');
    this.ffn.build(inputFeatureShape);
    if (this.hasVariable('wg')) return;
    const dim = inputFeatureShape[inputFeatureShape.length - 1]!;
    const bound = 1 / Math.sqrt(dim);
    this.addVariable('wg', tf.randomUniform([dim, 1], -bound, bound, 'float32', this.seeds.next()));
    this.addVariable('bg', tf.randomUniform([1], -bound, bound, 'float32', this.seeds.next()));
  }

  /** The dense FFN alone, `[T, D]` → `[T, D']` (what a token with `g = 0` gets). */
  apply(tokens: tf.Tensor, options: ExpertApplyOptions): tf.Tensor {
    this.assertLive('ConditionalMoEBranch.apply');
    if (tokens.rank !== 2) throw new MoEArgumentError('ConditionalMoEBranch.apply', 'tokens', 'rank 2 [T, D]', `shape [${tokens.shape.join(', ')}]`);
    return tf.tidy(() => tf.squeeze(this.ffn.apply(tf.expandDims(tokens, 0), options), [0]));
  }

  /** The CMR gate `g = σ(x·wg + bg)` `[T]`, before gate dropout (NLLB Eq. 5). */
  gate(tokens: tf.Tensor2D): tf.Tensor1D {
    this.assertLive('ConditionalMoEBranch.gate');
    this.build([tokens.shape[1]]);
    return tf.tidy(() => tf.reshape(tf.sigmoid(tf.add(tf.matMul(tokens, this.variable('wg', 'ConditionalMoEBranch.gate')), this.variable('bg', 'ConditionalMoEBranch.gate'))), [-1]));
  }

  /**
   * `y = (1 − g)·FFN(x) + g·routed` `[T, D']`, with dropout on `g` in training, and the aux losses
   * `{ cmrBudget: |mean g − p|, total: budgetWeight · cmrBudget }`.
   */
  mix(tokens: tf.Tensor, routed: tf.Tensor, options: ExpertApplyOptions): ConditionalMoEMix {
    const where = 'ConditionalMoEBranch.mix';
    this.assertLive(where);
    if (tokens.rank !== 2) throw new MoEArgumentError(where, 'tokens', 'rank 2 [T, D]', `shape [${tokens.shape.join(', ')}]`);
    if (routed.shape[0] !== tokens.shape[0]) throw new MoEArgumentError(where, 'routed', `${tokens.shape[0]} rows (the tokens')`, `shape [${routed.shape.join(', ')}]`);
    const { gateDropout, budget, budgetWeight } = this.config;
    return tf.tidy(() => {
      let g: tf.Tensor = this.gate(tokens as tf.Tensor2D); // [T]
      if (options.training && gateDropout > 0) {
        const keep = tf.cast(tf.greaterEqual(tf.randomUniform(g.shape, 0, 1, 'float32', this.seeds.next()), gateDropout), 'float32'); // [T]
        g = tf.div(tf.mul(g, keep), 1 - gateDropout); // nn.Dropout on the gate (fairseq CMRGate)
      }
      const dense = this.apply(tokens, options); // [T, D']
      const column = tf.reshape(g, [g.shape[0]!, ...routed.shape.slice(1).map(() => 1)]); // [T, 1, …]
      const output = tf.add(tf.mul(tf.sub(1, column), dense), tf.mul(column, routed)); // NLLB Eq. 5
      const cmrBudget = tf.abs(tf.sub(tf.mean(g), budget)) as tf.Scalar; // fairseq |used / total − p|
      return { output, auxLosses: { cmrBudget, total: tf.mul(cmrBudget, budgetWeight) as tf.Scalar } };
    });
  }
}
