/**
 * Convolutional experts for moekit: narrow ResBlock experts routed per image with GAP or conv gates
 * (Pavlitska et al. 2022), soft and hard utilisation constraints, AdvMoE's channel-group MoE conv with an
 * image-level router (Zhang et al. 2023), the expert × class specialisation analysis, and Spatial MoE (Dryden &
 * Hoefler 2022): a learned gate over the spatial grid, conv experts chosen per location, the routing-classification loss.
 *
 * @packageDocumentation
 */
import './register.js';

export { ConvExperts, type ConvExpertsArgs, type ConvExpertsConfig, type ConvExpertLayer, type ConvActivation, type ConvNorm } from './conv-experts.js';
export { GapGate, type GapGateArgs } from './gap-gate.js';
export { ConvGate, type ConvGateArgs } from './conv-gate.js';
export { sparseCleanGates } from './sparse-clean-gates.js';
export { SoftConstraintRouter, type SoftConstraintRouterArgs, type SoftConstraintLoss } from './soft-constraint-router.js';
export { HardConstraintRouter, type HardConstraintRouterArgs, type HardConstraintMode } from './hard-constraint-router.js';
export { ImageRouter, disposeSelection, type ImageRouterArgs, type ImageGateInput, type ChannelGroupSelection, type SelectionEstimator } from './image-router.js';
export { MoEConv2D, type MoEConv2DArgs } from './moe-conv2d.js';
export { expertClassMatrix, expertClassStatistics, type ExpertClassMatrix, type ExpertClassMatrixOptions, type LabelledImages } from './expert-class-matrix.js';
export { expertClassMatrixSvg, type ExpertClassMatrixSvgOptions } from './expert-class-matrix-svg.js';
export { SpatialGate, type SpatialGateArgs } from './spatial-gate.js';
export { SpatialMoE, type SpatialMoEArgs, type SpatialMoEOutput } from './spatial-moe.js';
export { routingClassificationLabels, routingClassificationLoss, correctByTolerance } from './routing-classification-loss.js';
export { correctByErrorQuantile, rowQuantile } from './error-quantile.js';
export { partitionAgreement } from './partition-agreement.js';
export { registerConvKernels } from './kernels/register-conv-kernels.js';
