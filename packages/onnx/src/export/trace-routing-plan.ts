/**
 * The router and the plan of a `MixtureOfExperts` at evaluation, traced generically with a
 * {@link KernelTrace}: `router.route(x, { training: false })`, then, for token choices, core's
 * `planRouting` with the MoE's own evaluation options (capacity factor, preset, rounding, renormalize,
 * slot order, priority), as `MixtureOfExperts.planTokenChoice` runs it. Whatever kernels they run
 * become ONNX nodes through the kernel converters.
 *
 * A dropless evaluation capacity (factor 0) sizes its buffers from the demand read on the host, which a
 * static graph cannot do; it is traced with `neededCapacity = T·K`, a capacity no expert can exceed,
 * so every pair is kept with the same weight as dropless evaluation keeps it. A bounded dropless factor
 * (`f < 0`, `min(needed, bound)`) is traced the same way: `min(T·K, bound)` drops exactly the pairs
 * `min(needed, bound)` drops (none when `needed ≤ bound`, the same buffer otherwise). The slot values
 * then differ from moekit's, which is why the emitters read only `slot ≥ 0`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { isPlannedOutput, isSparsePlan, planRouting, type MixtureOfExperts, type RoutingPlan } from '@moekit/core';
import { ONNX_DATA_TYPE } from '../trace/onnx-dtype.js';
import type { KernelTrace } from '../trace/kernel-trace.js';
import type { SparsePlanValues } from './emit-sparse-experts.js';
import type { SoftPlanValues } from './emit-soft-experts.js';

/** A traced plan: the graph values of a sparse plan's flattened pairs, or of a Soft MoE plan. */
export type TracedPlan = TracedSparsePlan | TracedSoftPlan;

/** A traced sparse plan (token choice, expert choice, BASE): its tensors' graph values. */
export interface TracedSparsePlan {
  /** Discriminant. */
  kind: 'sparse';
  /** The plan's tensors as graph values. */
  values: SparsePlanValues;
}

/** A traced Soft MoE plan: its dispatch and combine weights' graph values. */
export interface TracedSoftPlan {
  /** Discriminant. */
  kind: 'soft';
  /** The plan's tensors as graph values. */
  values: SoftPlanValues;
}

/**
 * The evaluation capacity factor the export uses: the MoE's `capacity.eval`, with `'auto'` taken as
 * dropless (0) — what `moe.apply` does on the host backends (`cpu`, `wasm`), and what the exported
 * graph does at no extra cost, since it multiplies only kept rows (a GPU backend's padded layout
 * evaluates `'auto'` at core's `AUTO_EVAL_CAPACITY_FACTOR` instead).
 */
export function exportCapacityFactor(moe: MixtureOfExperts): number {
  const evaluation = moe.config.capacity.eval;
  return evaluation === 'auto' ? 0 : evaluation;
}

/**
 * Traces the routing of `tokens` `[T, D]` (a tensor bound to a graph value) into `trace`'s graph.
 * `recording`: the caller's `trace.record` is running already (a whole model's trace), so the router
 * runs inside it rather than in a `record` of its own.
 */
export function traceRoutingPlan(trace: KernelTrace, moe: MixtureOfExperts, tokens: tf.Tensor2D, recording = false): TracedPlan {
  const graph = trace.graph;
  const numTokens = tokens.shape[0];
  const record = (fn: () => RoutingPlan): RoutingPlan => (recording ? fn() : trace.record(fn));
  return tf.tidy(() => {
    const plan = record(() => {
      const routing = moe.router.route(tokens, { training: false });
      if (isPlannedOutput(routing)) return routing.plan;
      const factor = exportCapacityFactor(moe);
      const k = routing.expertIndex.shape[1];
      return planRouting(routing, moe.numExperts, {
        ...moe.planRoutingOptions(factor),
        validate: false,
        ...(factor <= 0 ? { neededCapacity: numTokens * k } : {}),
      });
    });
    if (!isSparsePlan(plan)) {
      const [numGroups] = plan.dispatchWeights.shape;
      return { kind: 'soft' as const, values: { dispatchWeights: trace.nameOf(plan.dispatchWeights), combineWeights: trace.nameOf(plan.combineWeights), numGroups, groupSize: plan.groupSize, slotsPerGroup: plan.slotsPerGroup } };
    }
    const flat = graph.constant('int64', [-1]);
    const flatten = (t: tf.Tensor) => graph.op('Reshape', [trace.nameOf(t), flat]); // [P]
    const [p0, p1] = plan.expertIndex.shape;
    const token = plan.token === undefined
      ? graph.addInitializer({ dtype: 'int64', shape: [p0 * p1], data: BigInt64Array.from({ length: p0 * p1 }, (_, p) => BigInt(Math.floor(p / p1))) }, graph.uniqueName('plan/pair_token')) // token-major [T, K]: pair p is token ⌊p / K⌋'s
      : graph.op('Cast', [flatten(plan.token)], { to: ONNX_DATA_TYPE.int64 });
    return { kind: 'sparse' as const, values: { expertIndex: flatten(plan.expertIndex), slot: flatten(plan.slot), combineWeight: flatten(plan.combineWeight), token } };
  });
}
