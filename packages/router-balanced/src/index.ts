/**
 * `@moekit/router-balanced`: routing algorithms that balance the experts by design, each a
 * {@link RoutingAlgorithm} plugin of `@moekit/core` that returns its own routing plan: expert choice
 * (Zhou et al. 2022), Soft MoE (Puigcerver et al. 2023), BASE balanced assignment (Lewis et al.
 * 2021) and hash routing (Roller et al. 2021).
 *
 * @packageDocumentation
 */
import './register.js';
export { ExpertChoice, expertChoiceRouter, type ExpertChoiceArgs, type ExpertChoiceConfig, type ExpertChoiceRouterArgs } from './expert-choice.js';
export { SoftMoE, softMoERouter, type SoftMoEArgs, type SoftMoEConfig, type SoftMoERouterArgs } from './soft-moe.js';
export { SoftMoEGate, type SoftMoEGateArgs, type SoftMoEGateConfig } from './soft-moe-gate.js';

// BASE layers' balanced assignment (Lewis et al. 2021)
export { BalancedAssignment, type BalancedAssignmentArgs, type BalancedAssignmentConfig } from './balanced-assignment.js';
export { balancedAssignmentRouter, type BalancedAssignmentRouterArgs } from './balanced-assignment-router.js';
export { balancedCapacities, resolveSolverOptions, solveBalancedAssignment, type BalancedAssignmentSolution, type BalancedAssignmentSolverOptions, type ResolvedSolverOptions } from './balanced-assignment-solver.js';

// Hash layers (Roller et al. 2021)
export { buildHashTable, type HashTableArgs, type HashTableKind } from './hash-table.js';
export { HashRouter, hashRouter, type HashOf, type HashRouterArgs, type HashRouterConfig } from './hash-router.js';

// resolves the {@link RoutingAlgorithm} of the package comment above for typedoc
import type { RoutingAlgorithm } from '@moekit/core';
