/**
 * A trained `MixtureOfExperts` as an ONNX model: its evaluation path (`moe.apply(x, { training: false })`)
 * for `[numTokens, D]` inputs, in standard `ai.onnx` operators, to run in ONNX Runtime. The router and
 * the plan are traced generically ({@link traceRoutingPlan}); the `FeedForwardExperts` and the combine
 * are written by hand, without padding ({@link emitSparseExperts}, {@link emitSoftExperts}); a shared
 * branch is traced. Everything is static: `numTokens` is fixed in the graph (the capacity depends on it).
 */
import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError, weightedSumCombiner, type MixtureOfExperts } from '@moekit/core';
import { encodeOnnxModel } from '../proto/encode-onnx-model.js';
import { OnnxGraph } from '../proto/onnx-graph.js';
import { KernelTrace } from '../trace/kernel-trace.js';
import { emitPassDroppedTokens, emitSparseExperts, type SparseCombine } from './emit-sparse-experts.js';
import { emitSoftExperts } from './emit-soft-experts.js';
import { FfnExpertEmitter } from './ffn-expert-emitter.js';
import { traceRoutingPlan } from './trace-routing-plan.js';

/** Options of {@link exportMixtureOfExperts}. */
export interface ExportMixtureOfExpertsOptions {
  /** Tokens `T` per call, fixed in the graph (the capacity is computed from it). */
  numTokens: number;
  /** Name of the graph input `[T, D]`. Default `'x'`. */
  inputName?: string;
  /** Name of the graph output `[T, D']`. Default `'y'`. */
  outputName?: string;
  /** How the experts' rows are summed into the output (see {@link SparseCombine}). Default `'concat'`. */
  sparseCombine?: SparseCombine;
}

/** How {@link emitMixtureOfExperts} writes an MoE into a graph it shares with other parts. */
export interface EmitMixtureOfExpertsOptions {
  /** See {@link ExportMixtureOfExpertsOptions.sparseCombine}. */
  sparseCombine?: SparseCombine;
  /** Where errors are reported. Default `'exportMixtureOfExperts'`. */
  where?: string;
  /** Initializer name prefix of the experts' weights. Default `'experts'`. */
  prefix?: string;
  /** The caller's `trace.record` is running already (a whole model's trace): trace the router and shared branch inside it. Default false. */
  recording?: boolean;
}

const EXPORT_OPTIONS: readonly (keyof ExportMixtureOfExpertsOptions)[] = ['numTokens', 'inputName', 'outputName', 'sparseCombine'];
const WHERE = 'exportMixtureOfExperts';

/**
 * Writes `moe`'s evaluation path for `[numTokens, D]` inputs as ONNX model bytes (opset 18): one input
 * `x` `[T, D]` float32, one output `y` `[T, D']` equal to `moe.apply(x, { training: false }).output`
 * to float32 rounding. Capacity and drops are moekit's at evaluation: `capacity.eval > 0` drops the
 * pairs over capacity, `0` (and `'auto'`) is dropless, `droppedTokens: 'residual'` passes dropped
 * tokens through. Experts must be a built `FeedForwardExperts` bank; the combiner the default one.
 *
 * @example
 * ```ts
 * import * as fs from 'node:fs';
 * import * as ort from 'onnxruntime-node';
 * import { exportMixtureOfExperts } from '@moekit/onnx';
 *
 * const bytes = exportMixtureOfExperts(moe, { numTokens: 4096 });
 * fs.writeFileSync('moe.onnx', bytes);
 * const session = await ort.InferenceSession.create(bytes);
 * const { y } = await session.run({ x: new ort.Tensor('float32', data, [4096, 512]) });
 * ```
 */
export function exportMixtureOfExperts(moe: MixtureOfExperts, options: ExportMixtureOfExpertsOptions): Uint8Array {
  checkOptions(options);
  const { numTokens, inputName = 'x', outputName = 'y' } = options;
  const graph = new OnnxGraph('moekit');
  const trace = new KernelTrace(graph);
  const width = new FfnExpertEmitter(graph, moe.experts, WHERE).inputDim; // checks the bank before anything is traced
  const x = tf.randomNormal([numTokens, width], 0, 1, 'float32', 1) as tf.Tensor2D; // any values: the trace records shapes and kernels
  try {
    trace.bind(x, graph.addInput(inputName, 'float32', [numTokens, width]));
    const y = emitMixtureOfExperts(trace, moe, x, { ...(options.sparseCombine !== undefined ? { sparseCombine: options.sparseCombine } : {}) });
    const outputDim = moe.experts.outputFeatureShape?.([width])[0] ?? width;
    graph.node('Identity', [y], {}, [outputName]);
    graph.addOutput(outputName, 'float32', [numTokens, outputDim]);
  } finally {
    x.dispose();
  }
  return encodeOnnxModel(graph);
}

/**
 * Writes `moe`'s evaluation path on `x` `[T, D]` (a tensor bound to a graph value in `trace`) into
 * `trace`'s graph and returns the output value `[T, D']`. For exporters of larger models
 * (`exportLayersModel`) that meet an MoE inside their own trace. Runs nothing of its own unrecorded
 * besides the experts and combine it writes by hand.
 */
export function emitMixtureOfExperts(trace: KernelTrace, moe: MixtureOfExperts, x: tf.Tensor2D, options: EmitMixtureOfExpertsOptions = {}): string {
  const where = options.where ?? WHERE;
  const graph = trace.graph;
  const numTokens = x.shape[0];
  if (moe.combiner !== weightedSumCombiner) throw new MoEArgumentError(where, 'combiner', 'the default weightedSumCombiner (the export writes its weighted sum)', 'a custom combiner');
  const experts = new FfnExpertEmitter(graph, moe.experts, where, options.prefix ?? 'experts');
  moe.build([experts.inputDim], x.shape[1], where);
  if (moe.config.droppedTokens === 'residual' && experts.outputDim !== experts.inputDim) {
    throw new MoEArgumentError(where, 'droppedTokens', `'zero' (the experts' output width ${experts.outputDim} differs from the input's ${experts.inputDim})`, "'residual'");
  }
  const xName = trace.nameOf(x);
  const recording = options.recording ?? false;
  const plan = traceRoutingPlan(trace, moe, x, recording);
  let routed: string;
  if (plan.kind === 'soft') routed = emitSoftExperts(graph, experts, xName, plan.values);
  else {
    routed = emitSparseExperts(graph, experts, xName, plan.values, numTokens, options.sparseCombine ?? 'concat');
    if (moe.config.droppedTokens === 'residual') routed = emitPassDroppedTokens(graph, xName, routed, plan.values, numTokens);
  }
  return moe.shared === undefined ? routed : traceSharedBranch(trace, moe, x, routed, experts.outputDim, recording);
}

/** The shared branch, traced: `routed + shared(x)`, or its `mix(x, routed)` (CMR) with `routed` bound to the emitted value. */
function traceSharedBranch(trace: KernelTrace, moe: MixtureOfExperts, x: tf.Tensor2D, routed: string, outputDim: number, recording: boolean): string {
  const shared = moe.shared!;
  const record = <R>(fn: () => R): R => (recording ? fn() : trace.record(fn));
  return tf.tidy(() => {
    if (shared.mix === undefined) {
      const branch = record(() => shared.apply(x, { training: false })); // [T, D']
      return trace.graph.op('Add', [routed, trace.nameOf(branch)]);
    }
    const stand = tf.zeros([x.shape[0], outputDim]); // stands for the routed output in the trace; its values are not used
    trace.bind(stand, routed);
    const mixed = record(() => shared.mix!(x, stand, { training: false }));
    return trace.nameOf(mixed.output);
  });
}

function checkOptions(options: ExportMixtureOfExpertsOptions): void {
  if (typeof options !== 'object' || options === null) throw new MoEArgumentError(WHERE, 'options', '{ numTokens, inputName?, outputName?, sparseCombine? }', String(options));
  for (const key of Object.keys(options)) {
    if (!(EXPORT_OPTIONS as readonly string[]).includes(key)) throw new MoEArgumentError(WHERE, key, `one of the options ${EXPORT_OPTIONS.join(', ')}`, `the unknown option '${key}'`);
  }
  if (!Number.isInteger(options.numTokens) || options.numTokens < 1) throw new MoEArgumentError(WHERE, 'numTokens', 'an integer >= 1', String(options.numTokens));
  if (options.sparseCombine !== undefined && !['scatterEach', 'concat'].includes(options.sparseCombine)) {
    throw new MoEArgumentError(WHERE, 'sparseCombine', "'scatterEach' | 'concat'", `'${String(options.sparseCombine)}'`);
  }
}
