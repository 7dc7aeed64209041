/**
 * `@moekit/experts-ffn`: feed-forward expert banks — batched FFN and GLU experts, a shared dense
 * expert, NLLB's conditional MoE routing (CMR) branch, sparse upcycling of a pretrained dense FFN, and
 * Transformer MoE blocks (standard and shortcut-connected, ScMoE), and the sparse mixture of projectors
 * between modality encoders and a language model (Llama-SMoP).
 *
 * @packageDocumentation
 */
import './register.js';

export { FeedForwardExperts, type FeedForwardExpertsArgs, type FeedForwardWeights, type GatedVariant, type FeedForwardExpertsConfig } from './feed-forward-experts.js';
export { SharedExpert, type SharedExpertArgs } from './shared-expert.js';
export { ConditionalMoEBranch, type ConditionalMoEBranchArgs, type ConditionalMoEBranchConfig, type ConditionalMoEMix } from './conditional-moe-branch.js';
export { upcycleDense, type UpcycleOptions } from './upcycle-dense.js';
export { TransformerMoEBlock, type TransformerMoEBlockArgs } from './transformer-moe-block.js';
export { ShortcutMoEBlock, type ShortcutMoEBlockArgs } from './shortcut-moe-block.js';
export type { FfnActivation } from './activations.js';
export type { KernelInitializerName } from './initializers.js';
export { MixtureOfProjectors, type MixtureOfProjectorsArgs, type MixtureOfProjectorsOutput, type ProjectorVariant } from './mixture-of-projectors.js';
