import * as tf from '@tensorflow/tfjs-core';
import { arg, type ArgsTable } from '../components/args-table.js';
import type { Capability } from '../components/capabilities.js';
import { Component } from '../components/component.js';
import { checkExpertSelection, copyExpertSlices } from './expert-selection.js';
import { excludeExperts } from './exclude-experts.js';
import type { Gate, GateOutput } from '../contracts/gate.js';
import { createGateKernel, gateInitializers, type GateInitializer } from './gate-kernel.js';
import type { RouteOptions } from '../contracts/router.js';
import { checkGateInput, checkRouteOptions } from '../util/validate.js';

/** Configuration of a {@link LinearGate}. */
export interface LinearGateArgs {
  /** Score columns `N` (experts `E`, or `E·S` slots for Soft MoE). */
  numOutputs: number;
  /** Gate input width `Dg`; when omitted the kernel is built from the first input. */
  inputDim?: number;
  /** Kernel initialiser. Default `'glorotUniform'`. */
  kernelInitializer?: GateInitializer;
  /** Seed of the initialiser. */
  seed?: number;
}

/** A {@link LinearGate}'s arguments with the default initialiser filled in. */
export interface LinearGateConfig extends LinearGateArgs {
  /** Kernel initialiser. */
  kernelInitializer: GateInitializer;
}

/**
 * The linear gate `scores = x · W_g` (`W_g` `[Dg, N]`, no bias), computed in float32 — the gate of
 * Shazeer 2017, GShard, Switch and expert choice. Honours `excludedExperts`.
 *
 * @example
 * ```ts
 * import { LinearGate } from '@moekit/core';
 *
 * const gate = new LinearGate({ numOutputs: 8, seed: 1 });
 * ```
 */
export class LinearGate extends Component<LinearGateArgs, LinearGateConfig> implements Gate {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'LinearGate';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<LinearGateArgs> = {
    numOutputs: arg.integer({ min: 1 }),
    inputDim: arg.integer({ min: 1, optional: true }),
    kernelInitializer: arg.oneOf(gateInitializers, { default: 'glorotUniform' }),
    seed: arg.number({ optional: true }),
  };
  /** Selects experts, gives its weights, honours excluded experts. */
  static readonly capabilities: readonly Capability[] = ['selectExperts', 'gateWeights', 'excludedExperts'];

  /** Validates the arguments; builds now if `inputDim` is given. */
  constructor(args: LinearGateArgs) {
    super(args);
    if (this.config.inputDim !== undefined) this.build(this.config.inputDim);
  }

  /** Score columns `N`. */
  get numOutputs(): number {
    return this.config.numOutputs;
  }

  /** The gate-input width `Dg` of `W_g` once built (`undefined` before). */
  get inputDim(): number | undefined {
    return this.variableShape('kernel')?.[0];
  }

  /** Creates `W_g` `[Dg, N]`; a second call is a no-op. */
  build(inputDim: number): void {
    this.assertLive('LinearGate.build');
    if (!this.hasVariable('kernel')) this.addVariable('kernel', createGateKernel(inputDim, this.numOutputs, this.config.kernelInitializer, this.seeds.next()));
  }

  /** `[T, Dg]` → `[T, N]` = `x · W_g`, excluded experts at `EXCLUDED_LOGIT`. */
  scores(gateInput: tf.Tensor2D, options: RouteOptions): GateOutput {
    checkRouteOptions('LinearGate.scores', options);
    this.build(gateInput.shape[gateInput.rank - 1]!);
    const kernel = this.variable('kernel', 'LinearGate.scores');
    checkGateInput('LinearGate.scores', gateInput, kernel.shape[0]!);
    const logits = tf.tidy(() => excludeExperts(tf.matMul(tf.cast(gateInput, 'float32'), kernel as tf.Tensor2D) as tf.Tensor2D, options.excludedExperts)); // [T, N]
    return { logits };
  }

  /** A copy of `W_g` `[Dg, N]`. */
  gateWeights(): tf.Tensor2D {
    return tf.clone(this.variable('kernel', 'LinearGate.gateWeights')) as tf.Tensor2D;
  }

  /** A new gate over the columns `keep`, their weights copied; this gate is unchanged. */
  selectExperts(keep: readonly number[]): LinearGate {
    const where = 'LinearGate.selectExperts';
    const kernel = this.variable('kernel', where);
    checkExpertSelection(where, keep, this.numOutputs);
    const gate = new LinearGate({ ...this.config, numOutputs: keep.length, inputDim: kernel.shape[0]! });
    copyExpertSlices(gate.variable('kernel', where), kernel, keep, 1);
    return gate;
  }
}
