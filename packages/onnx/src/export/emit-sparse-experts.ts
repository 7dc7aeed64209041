/**
 * The experts and the combine of a sparse routing plan, written as ONNX nodes by hand, without
 * padding: the plan's `P` pairs are flattened; for each expert `e`, its kept pairs are
 * `NonZero(slot ≥ 0 ∧ expertIndex = e)`, their tokens' rows are gathered, go through the expert's FFN,
 * are scaled by the pairs' combine weights and summed into the output per token,
 * `y[t] = Σ_{kept pairs p of t} w[p] · FFN_{e(p)}(x[t])` (Shazeer et al. 2017, Eq. 1). Only `slot ≥ 0`
 * is read of the slots, never their values: a plan traced with a capacity that cannot drop keeps the
 * same pairs as a dropless one.
 *
 * Two ways to sum, measured in onnxruntime-node 1.30 at T=4096, D=512, H=1024, k=2, 2 threads
 * (`apps/bench/src/onnx-export.ts`, and its profile): `'concat'` (the default) concatenates every
 * expert's rows and token indices and adds them into the output with one `ScatterND` (reduction `add`,
 * opset 18): at E=64 the `Concat` takes 27 ms and the `ScatterND` 6 ms of a ~300 ms call, the GEMMs the
 * rest; `'scatterEach'` adds each expert's rows with its own `ScatterND`, which copies the `[T, D']`
 * output once per expert (36 ms of scatters at E=8, 50 ms at E=64). Gathering the rows back into pair
 * order instead of scattering (no reduction) was tried and measured 10 ms slower: the `Concat` stays.
 */
import type { OnnxGraph } from '../proto/onnx-graph.js';
import type { FfnExpertEmitter } from './ffn-expert-emitter.js';

/** How the experts' scaled rows are summed into the output: see the module comment. */
export type SparseCombine = 'scatterEach' | 'concat';

/** The graph values of a sparse plan the emitter reads (all flattened to `[P]`). */
export interface SparsePlanValues {
  /** `[P]` int32 expert of each pair (`-1` unused). */
  expertIndex: string;
  /** `[P]` int32 slot of each pair (`-1` dropped or unused); only `≥ 0` is read. */
  slot: string;
  /** `[P]` float32 combine weight of each pair. */
  combineWeight: string;
  /** `[P]` int64 token of each pair. */
  token: string;
}

/**
 * `[T, D']`: the plan's kept pairs through their experts, weighted and summed per token.
 * `x` is `[T, D]` float32.
 */
export function emitSparseExperts(graph: OnnxGraph, experts: FfnExpertEmitter, x: string, plan: SparsePlanValues, numTokens: number, combine: SparseCombine = 'concat'): string {
  const g = graph;
  const kept = g.op('GreaterOrEqual', [plan.slot, g.constant('int32', 0)]); // [P] bool
  const flat = g.constant('int64', [-1]);
  const column = g.constant('int64', [-1, 1]);
  let output = g.op('ConstantOfShape', [g.constant('int64', [numTokens, experts.outputDim])], { value: { tensor: { dtype: 'float32', shape: [1], data: new Float32Array([0]) } } }); // [T, D'] zeros
  const rows: string[] = [];
  const owners: string[] = [];
  for (let e = 0; e < experts.numExperts; e++) {
    const mine = g.op('And', [kept, g.op('Equal', [plan.expertIndex, g.constant('int32', e)])]); // [P] bool
    const pairs = g.op('Reshape', [g.op('NonZero', [mine]), flat]); // [n] int64 pair indices
    const tokens = g.op('Gather', [plan.token, pairs], { axis: 0 }); // [n] int64
    const weights = g.op('Reshape', [g.op('Gather', [plan.combineWeight, pairs], { axis: 0 }), column]); // [n, 1]
    const out = experts.emit(e, g.op('Gather', [x, tokens], { axis: 0 })); // [n, D']
    const scaled = g.op('Mul', [out, weights]); // [n, D'] w[p] · FFN_e(x[t])
    const at = g.op('Reshape', [tokens, column]); // [n, 1]
    if (combine === 'scatterEach') output = g.op('ScatterND', [output, at, scaled], { reduction: 'add' });
    else {
      rows.push(scaled);
      owners.push(at);
    }
  }
  if (combine === 'concat') {
    output = g.op('ScatterND', [output, g.op('Concat', owners, { axis: 0 }), g.op('Concat', rows, { axis: 0 })], { reduction: 'add' }); // [T, D']
  }
  return output;
}

/**
 * `droppedTokens: 'residual'`: `routed + x` for the tokens none of whose pairs was kept (dropped by
 * every expert they asked for, or chosen by none), as `MixtureOfExperts`' `passDroppedTokens`.
 */
export function emitPassDroppedTokens(graph: OnnxGraph, x: string, routed: string, plan: SparsePlanValues, numTokens: number): string {
  const g = graph;
  const kept = g.op('Cast', [g.op('GreaterOrEqual', [plan.slot, g.constant('int32', 0)])], { to: 1 }); // [P] float32
  const zeros = g.op('ConstantOfShape', [g.constant('int64', [numTokens])], { value: { tensor: { dtype: 'float32', shape: [1], data: new Float32Array([0]) } } }); // [T]
  const keptPerToken = g.op('ScatterND', [zeros, g.op('Reshape', [plan.token, g.constant('int64', [-1, 1])]), kept], { reduction: 'add' }); // [T]
  const withoutExpert = g.op('Cast', [g.op('Equal', [keptPerToken, g.constant('float32', 0)])], { to: 1 }); // [T] 1 where no pair was kept
  return g.op('Add', [routed, g.op('Mul', [x, g.op('Reshape', [withoutExpert, g.constant('int64', [-1, 1])])])]); // [T, D]
}
