/**
 * `FeedForwardExperts` (`@moekit/experts-ffn`) written as ONNX nodes by hand: one expert's FFN on its
 * gathered rows, with that expert's own weight slices as initializers (ONNX Runtime pre-packs constant
 * `MatMul` weights), or all experts at once on `[E, C, D]` buffers (Soft MoE's slots, a batched
 * `MatMul` over the stacked weights). The arithmetic follows `FeedForwardExperts.ffn` operation by
 * operation, so ONNX Runtime computes the same values as tfjs to float32 rounding.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError, type ExpertBank } from '@moekit/core';
import { FeedForwardExperts, type FfnActivation } from '@moekit/experts-ffn';
import type { OnnxGraph } from '../proto/onnx-graph.js';

type Projection = 'w1' | 'v' | 'w2';
const BIAS_OF: Record<Projection, 'b1' | 'bv' | 'b2'> = { w1: 'b1', v: 'bv', w2: 'b2' };

/** Emits a `FeedForwardExperts` bank's FFNs into one graph: see the module comment. */
export class FfnExpertEmitter {
  /** Experts `E`. */
  readonly numExperts: number;
  /** Input width `D`. */
  readonly inputDim: number;
  /** Output width `D'`. */
  readonly outputDim: number;
  private readonly activation: FfnActivation;
  private readonly gated: 'none' | 'swiglu' | 'geglu';
  private readonly weights: Partial<Record<Projection | 'b1' | 'bv' | 'b2', tf.Tensor>>;
  private readonly sliced = new Map<string, string>();

  /**
   * @param graph the graph the nodes and weights go into.
   * @param experts the bank: a built `FeedForwardExperts` (anything else is an error naming `where`).
   * @param prefix the initializers' name prefix (`experts` → `experts/w1/3`).
   */
  constructor(private readonly graph: OnnxGraph, experts: ExpertBank, where: string, private readonly prefix = 'experts') {
    if (!(experts instanceof FeedForwardExperts)) {
      const name = (experts.constructor as { className?: string }).className ?? experts.constructor.name;
      throw new MoEArgumentError(where, 'experts', 'a FeedForwardExperts bank (@moekit/experts-ffn): the expert banks the ONNX export writes', name);
    }
    if (experts.inputFeatureShape === undefined) throw new MoEArgumentError(where, 'experts', 'a built bank (apply the MoE once, or call build)', 'an unbuilt FeedForwardExperts');
    const config = experts.config;
    this.activation = config.activation;
    this.gated = config.gated;
    this.weights = { ...experts.weights };
    const w2 = this.weights.w2!; // [E, H, D']
    this.numExperts = experts.numExperts;
    this.inputDim = experts.inputFeatureShape[0]!;
    this.outputDim = w2.shape[2]!;
  }

  /** Expert `e`'s FFN on `rows` `[n, D]` → `[n, D']`. */
  emit(e: number, rows: string): string {
    return this.ffn(rows, (input, name) => this.project(input, name, e));
  }

  /** Every expert's FFN on `buffers` `[E, C, D]` → `[E, C, D']` (one batched `MatMul` per projection). */
  emitAll(buffers: string): string {
    return this.ffn(buffers, (input, name) => this.project(input, name, 'all'));
  }

  /** `FeedForwardExperts.ffn`: `act(x·W1 + b1)·W2 + b2`, or the GLU `(act(x·W1 + b1) ⊙ (x·V + bv))·W2 + b2`. */
  private ffn(x: string, project: (input: string, name: Projection) => string): string {
    const g = this.graph;
    let hidden = project(x, 'w1'); // [..., H]
    if (this.gated === 'none') hidden = this.activate(hidden, this.activation);
    else hidden = g.op('Mul', [this.activate(hidden, this.gated === 'swiglu' ? 'swish' : 'gelu'), project(x, 'v')]); // GLU (Shazeer 2020, Eq. 5-6)
    return project(hidden, 'w2'); // [..., D']
  }

  /** `activations.ts`' formulas, operation by operation. */
  private activate(x: string, activation: FfnActivation): string {
    const g = this.graph;
    switch (activation) {
      case 'relu':
        return g.op('Relu', [x]);
      case 'gelu': // Hendrycks & Gimpel 2016: x · Φ(x) = (x · 0.5) · (1 + erf(x / √2)); ONNX's Gelu op is opset 20
        return g.op('Mul', [g.op('Mul', [x, g.constant('float32', 0.5)]), g.op('Add', [g.constant('float32', 1), g.op('Erf', [g.op('Mul', [x, g.constant('float32', Math.SQRT1_2)])])])]);
      case 'swish': // Ramachandran et al. 2017 (SiLU): x · σ(x)
        return g.op('Mul', [x, g.op('Sigmoid', [x])]);
    }
  }

  /**
   * `input · W (+ b)` with expert `e`'s slices — one `Gemm` of its `[n, in]` rows, bias included, which
   * ONNX Runtime fuses with a following `Relu` (`FusedGemm`: 5 of 48 ms at T=4096, E=8 as a separate
   * `Relu`) — or a `MatMul` with the stacked `[E, in, out]` weights for `'all'`.
   */
  private project(input: string, name: Projection, e: number | 'all'): string {
    const g = this.graph;
    const bias = BIAS_OF[name];
    const withBias = this.weights[bias] !== undefined;
    if (e !== 'all') return g.op('Gemm', withBias ? [input, this.initializer(name, e), this.initializer(bias, e)] : [input, this.initializer(name, e)]);
    const product = g.op('MatMul', [input, this.initializer(name, e)]);
    return withBias ? g.op('Add', [product, this.initializer(bias, e)]) : product;
  }

  /** The initializer of weight `name` for expert `e` (`[in, out]`, a bias `[out]`) or all (`[E, in, out]`, `[E, 1, out]`). */
  private initializer(name: keyof typeof this.weights, e: number | 'all'): string {
    const key = `${name}/${e}`;
    const known = this.sliced.get(key);
    if (known !== undefined) return known;
    const weight = this.weights[name]!; // [E, in, out] or a bias [E, 1, out]
    const all = weight.dataSync() as Float32Array;
    const [, rows, cols] = weight.shape as [number, number, number];
    const size = rows * cols;
    const isBias = name.startsWith('b');
    const value = e === 'all'
      ? { dtype: 'float32' as const, shape: weight.shape, data: Float32Array.from(all) }
      : { dtype: 'float32' as const, shape: isBias ? [cols] : [rows, cols], data: all.slice(e * size, (e + 1) * size) };
    const created = this.graph.addInitializer(value, this.graph.uniqueName(`${this.prefix}/${key}`));
    this.sliced.set(key, created);
    return created;
  }
}
