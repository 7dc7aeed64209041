/**
 * `@moekit/core`: the contracts every moekit package builds on (Router, RoutingPlan, ExpertBank,
 * Combiner) and the routing engine they share: capacity, slot assignment, dispatch and combine,
 * aux losses, metrics and the functional {@link MixtureOfExperts}.
 *
 * @packageDocumentation
 */
import './register.js';

export { MoEArgumentError, MoEDisposedError } from './errors.js';
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
} from './validate.js';
export type { AuxLosses } from './aux-losses.js';
export { expectTokenChoice, isPlannedOutput, type Router, type RouterOutput, type TokenChoiceOutput, type PlannedRouterOutput, type RouteOptions } from './router.js';
export type { Gate, GateOutput } from './gate.js';
export type { RoutingAlgorithm } from './routing-algorithm.js';
export { GatedRouter, type GatedRouterArgs } from './gated-router.js';
export { LinearGate, type LinearGateArgs, type LinearGateConfig } from './linear-gate.js';
export { componentConfig, fromComponentConfig, registerComponent, registeredPackage, type ComponentConfig, type RegistrableClass } from './components/component-registry.js';
export { Component, type ComponentClass, type NamedVariable } from './components/component.js';
export { arg, resolveArgs, type ArgSpec, type ArgsTable, type ResolvedSoFar } from './components/args-table.js';
export { hasCapability, requireCapability, type Capability, type CapabilityMethods, type Capable } from './components/capabilities.js';
export { disposeRoutingPlan, isSparsePlan, planNumTokens, type RoutingPlan, type SparseRoutingPlan, type SoftRoutingPlan } from './routing-plan.js';
export type { ExpertBank, ExpertApplyOptions } from './expert-bank.js';
export { checkExpertSelection, copyExpertSlices } from './expert-selection.js';
export type { Combiner } from './combiner.js';
export type { SharedBranch } from './shared-branch.js';
export { computeCapacity, type CapacityOptions, type CapacityRounding } from './capacity.js';
export { resolveCapacityConfig, DEFAULT_CAPACITY, AUTO_EVAL_CAPACITY_FACTOR, type CapacityConfig, type ResolvedCapacityConfig } from './capacity-config.js';
export { capacityPresets, type CapacityPreset, type CapacityPresetName } from './capacity-presets.js';
export { assignSlots, type AssignSlotsOptions, type SecondChoiceOffset, type SlotAssignment } from './assign-slots.js';
export { planRouting, type PlanRoutingOptions, type CallCapacity, type Renormalize } from './plan-routing.js';
export { dispatch } from './dispatch.js';
export { planBufferRows, type BufferLayout, type BufferRows } from './buffer-rows.js';
export { combine, weightedSumCombiner } from './combine.js';
export { denseDispatch, denseCombine } from './dense-dispatch.js';
export { clampIndex } from './clamp-index.js';
export { offTape, withoutGradient } from './without-gradient.js';
export { selectTopK } from './select-top-k.js';
export { excludeExperts, EXCLUDED_LOGIT } from './exclude-experts.js';
export { RouterWrapper, wrappedRouterArg, type RouterWrapperArgs } from './router-wrapper.js';
export { oneHotFloat } from './one-hot-float.js';
export { applyPerGroup, perExpert } from './per-expert.js';
export { groupedMatMul } from './grouped-mat-mul.js';
export { loadBalancingLoss } from './losses/load-balancing-loss.js';
export { importanceLoss, type ImportanceLossOptions } from './losses/importance-loss.js';
export { routerZLoss } from './losses/router-z-loss.js';
export { klToUniformLoss } from './losses/kl-to-uniform-loss.js';
export { routingMetrics, RoutingMetrics, type RoutingMetricsValues } from './routing-metrics.js';
export { MixtureOfExperts, type MixtureOfExpertsArgs, type MixtureOfExpertsConfig, type DroppedTokens, type FiniteCheck, type MoEApplyOptions, type MoEOutput } from './mixture-of-experts.js';
export { registerMoekitKernels, unregisterMoekitKernels } from './kernels/register-moekit-kernels.js';
export { selectBackend, backendNames, BACKEND_ENV_VAR, type BackendName, type BackendChoice, type BackendAttempt, type SelectBackendOptions } from './backends/select-backend.js';
export { keepTopKOnDevice } from './backends/keep-top-k-on-device.js';
export { initWasmBackend, autoWasmThreads, MAX_WASM_THREADS, type WasmBackendOptions, type WasmBackendInfo } from './backends/wasm-threads.js';
export { SeedStream } from './seed-stream.js';
export { createGateKernel, gateInitializers, type GateInitializer } from './gate-kernel.js';
export { MoELayer, type MoELayerArgs } from './layers/moe-layer.js';
export { RoutingHealthCallback, routingHealthCallback, describeHealth, type RoutingHealthCallbackArgs, type EpochRoutingHealth, type LayerRoutingHealth } from './layers/routing-health-callback.js';
export { RoutingHealth, type RoutingHealthSummary, type RoutingHealthMode } from './routing-health.js';
export { loadHealth, type LoadHealth } from './load-health.js';
export { keptChoicesPerToken } from './kept-choices-per-token.js';
export { fileSystem } from './io/file-system.js';
