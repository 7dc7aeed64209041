/**
 * The experts and the combine of a Soft MoE plan (Puigcerver et al. 2023, https://arxiv.org/abs/2308.00951),
 * written as ONNX nodes by hand, as core's `softDispatch` / `softCombine`: slots `X̃ = Dᵀ X` per group
 * (Eq. 1), every expert on all its slots (one batched `MatMul` over `E` per projection), and
 * `Y = C · f(X̃)` (Eq. 2). Nothing is dropped.
 */
import type { OnnxGraph } from '../proto/onnx-graph.js';
import type { FfnExpertEmitter } from './ffn-expert-emitter.js';

/** The graph values and sizes of a Soft MoE plan. */
export interface SoftPlanValues {
  /** `[B, G, E·S]` dispatch weights (a softmax over a group's tokens). */
  dispatchWeights: string;
  /** `[B, G, E·S]` combine weights (a softmax over the slots). */
  combineWeights: string;
  /** Groups `B`. */
  numGroups: number;
  /** Tokens per group `G`. */
  groupSize: number;
  /** Slots per expert and group `S`. */
  slotsPerGroup: number;
}

/** `[T, D']`: `x` `[T, D]` mixed into slots, through the experts, mixed back. */
export function emitSoftExperts(graph: OnnxGraph, experts: FfnExpertEmitter, x: string, plan: SoftPlanValues): string {
  const g = graph;
  const { numGroups: B, groupSize: G, slotsPerGroup: S } = plan;
  const E = experts.numExperts;
  const D = experts.inputDim;
  const Dout = experts.outputDim;
  const shape = (dims: number[]) => g.constant('int64', dims);
  const tokens = g.op('Reshape', [x, shape([B, G, D])]); // [B, G, D]
  const slots = g.op('MatMul', [g.op('Transpose', [plan.dispatchWeights], { perm: [0, 2, 1] }), tokens]); // [B, E·S, D] = Dᵀ X
  const perExpert = g.op('Transpose', [g.op('Reshape', [slots, shape([B, E, S, D])])], { perm: [1, 0, 2, 3] }); // [E, B, S, D]
  const out = experts.emitAll(g.op('Reshape', [perExpert, shape([E, B * S, D])])); // [E, C, D']
  const perGroup = g.op('Transpose', [g.op('Reshape', [out, shape([E, B, S, Dout])])], { perm: [1, 0, 2, 3] }); // [B, E, S, D']
  const y = g.op('MatMul', [plan.combineWeights, g.op('Reshape', [perGroup, shape([B, E * S, Dout])])]); // [B, G, D'] = C · Ỹ
  return g.op('Reshape', [y, shape([B * G, Dout])]); // [T, D']
}
