/**
 * `@moekit/router-topk`: top-k routers — Shazeer et al. 2017 noisy top-k with its smooth load
 * estimator, V-MoE's gaussian noise, Gumbel selection, GShard's second-expert policies, the two-level
 * hierarchical MoE; and, for `GatedRouter`, X-MoE's cosine gate and the `TopKChoice` routing algorithm
 * (softmax or DeepSeek-V3 sigmoid gating, auxiliary-loss-free load balancing), M6-T's expert prototyping
 * (`KTop1Choice`) and HetuMoE's switch-and-mixture gate (`SwitchAndMixtureChoice`).
 *
 * @packageDocumentation
 */
import './register.js';

export { TopKRouter, topKRouter, type TopKRouterArgs, type TopKNoise, type GateNormalization, type TopKRouterConfig } from './top-k-router.js';
export { type SecondExpertPolicy } from './second-expert-policy.js';
export { shazeerLoad } from './shazeer-load.js';
export { vmoeLoad } from './vmoe-load.js';
export { HierarchicalTopKRouter, type HierarchicalTopKRouterArgs, type HierarchicalTopKRouterConfig } from './hierarchical-top-k-router.js';
export { CosineGate, cosineGate, type CosineGateArgs, type CosineGateConfig } from './cosine-gate.js';
export { TopKChoice, topKChoice, type TopKChoiceArgs, type TopKChoiceConfig, type TopKGating } from './top-k-choice.js';
export { AuxLossFreeBias, type AuxLossFreeBiasArgs } from './aux-loss-free-bias.js';
export { KTop1Choice, kTop1Choice, type KTop1ChoiceArgs, type KTop1ChoiceConfig } from './k-top-1.js';
export { SwitchAndMixtureChoice, switchAndMixtureChoice, type SwitchAndMixtureChoiceArgs, type SwitchAndMixtureChoiceConfig } from './switch-and-mixture-choice.js';
