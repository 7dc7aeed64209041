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
// resolves the {@link RoutingAlgorithm} of the package comment for typedoc
import type { RoutingAlgorithm } from '@moekit/core';
