/**
 * `@moekit/core`: the contracts every moekit package builds on (Router, RoutingPlan, ExpertBank,
 * Combiner) and the routing engine they share: capacity, slot assignment, dispatch and combine,
 * aux losses, metrics and the functional {@link MixtureOfExperts}; and the {@link Component} base every
 * router, gate, algorithm and expert bank is built on. Nothing here needs tfjs-layers or Node: the
 * tfjs-layers adapter is `@moekit/layers`, backends, kernels and file IO are `@moekit/platform`.
 *
 * @module @moekit/core
 */
import './register.js';

export { MoEArgumentError, MoEDisposedError } from './util/errors.js';
export {
  checkAllFinite,
  checkDtype,
  checkFiniteNumber,
  checkGateInput,
  checkInteger,
  checkMinRank,
  checkNonNegative,
  checkOneOf,
  checkRank,
  checkShape,
  definedConfig,
  describe as describeValue,
  rejectUnknownOptions,
  checkRouteOptions,
} from './util/validate.js';
export type { AuxLosses } from './contracts/aux-losses.js';
export { expectTokenChoice, isPlannedOutput, type Router, type RouterOutput, type TokenChoiceOutput, type PlannedRouterOutput, type RouteOptions } from './contracts/router.js';
export type { Gate, GateOutput } from './contracts/gate.js';
export type { RoutingAlgorithm } from './contracts/routing-algorithm.js';
export { GatedRouter, type GatedRouterArgs } from './routers/gated-router.js';
export { LinearGate, type LinearGateArgs, type LinearGateConfig } from './routers/linear-gate.js';
export { componentConfig, fromComponentConfig, registerComponent, registeredPackage, type ComponentConfig, type RegistrableClass } from './components/component-registry.js';
export { Component, type ComponentClass, type NamedVariable } from './components/component.js';
export { arg, resolveArgs, type ArgOptions, type ArgSpec, type ArgsTable, type ResolvedSoFar } from './components/args-table.js';
export { hasCapability, requireCapability, type Capability, type CapabilityMethods, type Capable } from './components/capabilities.js';
export { disposeRoutingPlan, isSparsePlan, planNumTokens, type RoutingPlan, type SparseRoutingPlan, type SoftRoutingPlan } from './contracts/routing-plan.js';
export type { ExpertBank, ExpertApplyOptions } from './contracts/expert-bank.js';
export { checkExpertSelection, copyExpertSlices } from './routers/expert-selection.js';
export type { Combiner } from './contracts/combiner.js';
export type { SharedBranch, SharedBranchMix } from './contracts/shared-branch.js';
export { computeCapacity, type CapacityOptions, type CapacityRounding } from './routing/capacity.js';
export { resolveCapacityConfig, DEFAULT_CAPACITY, AUTO_EVAL_CAPACITY_FACTOR, type CapacityConfig, type ResolvedCapacityConfig } from './routing/capacity-config.js';
export { capacityPresets, type CapacityPreset, type CapacityPresetName } from './routing/capacity-presets.js';
export { assignSlots, type AssignSlotsOptions, type SecondChoiceOffset, type SlotAssignment, type SlotOrder } from './routing/assign-slots.js';
export { planRouting, type PlanRoutingOptions, type CallCapacity, type Renormalize } from './routing/plan-routing.js';
export { dispatch } from './dispatch/dispatch.js';
export { planBufferRows, type BufferLayout, type BufferRows } from './dispatch/buffer-rows.js';
export { combine, weightedSumCombiner } from './dispatch/combine.js';
export { denseDispatch, denseCombine } from './dispatch/dense-dispatch.js';
export { clampIndex } from './routing/clamp-index.js';
export { offTape, withoutGradient } from './util/without-gradient.js';
export { selectTopK } from './routers/select-top-k.js';
export { excludeExperts, EXCLUDED_LOGIT } from './routers/exclude-experts.js';
export { RouterWrapper, wrappedRouterArg, type RouterWrapperArgs } from './routers/router-wrapper.js';
export { oneHotFloat } from './util/one-hot-float.js';
export { chosenExpertsMask } from './routing/chosen-experts-mask.js';
export { applyPerGroup, perExpert } from './dispatch/per-expert.js';
export { groupedMatMul, type GroupedMatMulOptions } from './dispatch/grouped-mat-mul.js';
export { loadBalancingLoss, type LoadBalancingLossOptions } from './losses/load-balancing-loss.js';
export { loadBalancingConventions, type CountedChoices, type LoadBalancingConvention, type LoadBalancingConventionName } from './losses/load-balancing-conventions.js';
export { importanceLoss, type ImportanceLossOptions } from './losses/importance-loss.js';
export { routerZLoss } from './losses/router-z-loss.js';
export { klToUniformLoss } from './losses/kl-to-uniform-loss.js';
export { routingMetrics, RoutingMetrics, type RoutingMetricsValues } from './metrics/routing-metrics.js';
export { MixtureOfExperts, type MixtureOfExpertsArgs, type MixtureOfExpertsConfig, type DroppedTokens, type FiniteCheck, type MoEApplyOptions, type MoEOutput } from './mixture-of-experts.js';
export { SeedStream } from './util/seed-stream.js';
export { createGateKernel, gateInitializers, type GateInitializer } from './routers/gate-kernel.js';
export { RoutingHealth, type RoutingHealthSummary, type RoutingHealthMode } from './metrics/routing-health.js';
export { loadHealth, type LoadHealth } from './metrics/load-health.js';
export { keptChoicesPerToken } from './routing/kept-choices-per-token.js';
export { ExpertOutputMasking, applyOutputMask, drawKeepMask, resolveOutputMasking, type ExpertOutputMaskingArgs, type ExpertOutputMaskingConfig, type OutputMaskScaling } from './regularization/expert-output-masking.js';
export { FinalOutputMasking, type FinalOutputMaskingArgs, type FinalOutputMaskingConfig } from './regularization/final-output-masking.js';
