import { GatedRouter, LinearGate, rejectUnknownOptions, type CapacityConfig, type GateInitializer } from '@moekit/core';
import { BalancedAssignment } from './balanced-assignment.js';
import type { BalancedAssignmentSolverOptions } from './balanced-assignment-solver.js';

/** Configuration of {@link balancedAssignmentRouter}: the linear gate's and the balanced assignment's settings. */
export interface BalancedAssignmentRouterArgs extends BalancedAssignmentSolverOptions {
  /** Experts `E` (≥ 1). */
  numExperts: number;
  /** Gate input width `Dg`; when omitted the gate is built from the first input. */
  inputDim?: number;
  /** Gate kernel initialiser. Default `'switch'` (truncated normal, std `√(0.1 / Dg)`): small scores, like fairseq's expert centroids (orthogonal, gain 0.1). */
  kernelInitializer?: GateInitializer;
  /** Seed of the gate initialiser. */
  seed?: number;
  /**
   * Evaluation capacity, adopted by `MixtureOfExperts` (training is exactly balanced and ignores it).
   * Default: the MoE's (eval factor 2.0, no host read); `{ eval: 0 }` is the paper's dropless greedy
   * inference, at the cost of one `[E]` read per call.
   */
  capacity?: CapacityConfig;
}

const KNOWN = [...Object.keys(BalancedAssignment.argsTable), 'inputDim', 'kernelInitializer', 'seed', 'capacity'];

/**
 * A BASE-layer router (Lewis et al. 2021, https://arxiv.org/abs/2103.16716): a {@link LinearGate}
 * scoring `h_t · w_e` and the {@link BalancedAssignment} algorithm, joined in a {@link GatedRouter}
 * (serialisable through tfjs's registry). Exactly balanced in training, greedy top-1 in evaluation,
 * each token weighted by `σ(h_t · w_{a_t})`.
 *
 * @example
 * ```ts
 * import { MixtureOfExperts } from '@moekit/core';
 * import { balancedAssignmentRouter } from '@moekit/router-balanced';
 *
 * const router = balancedAssignmentRouter({ numExperts: 8, inputDim: 64, seed: 1 });
 * const moe = new MixtureOfExperts({ router, experts });
 * const { output } = moe.apply(x, { training: true }); // every expert gets exactly T/8 tokens
 * ```
 */
export function balancedAssignmentRouter(args: BalancedAssignmentRouterArgs): GatedRouter {
  rejectUnknownOptions('balancedAssignmentRouter', args ?? {}, KNOWN);
  const { numExperts, inputDim, kernelInitializer, seed, capacity, ...solver } = args;
  const algorithm = new BalancedAssignment({ numExperts, ...solver });
  const gate = new LinearGate({
    numOutputs: numExperts,
    kernelInitializer: kernelInitializer ?? 'switch',
    ...(inputDim !== undefined ? { inputDim } : {}),
    ...(seed !== undefined ? { seed } : {}),
  });
  return new GatedRouter({ gate, algorithm, ...(capacity !== undefined ? { capacity } : {}) });
}
