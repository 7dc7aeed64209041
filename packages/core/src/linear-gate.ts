import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from './errors.js';
import { checkExpertSelection, copyExpertSlices } from './expert-selection.js';
import { excludeExperts } from './exclude-experts.js';
import type { Gate, GateOutput } from './gate.js';
import { createGateKernel, type GateInitializer } from './gate-kernel.js';
import type { RouteOptions } from './router.js';
import { SeedStream } from './seed-stream.js';
import { checkGateInput, checkInteger, checkOneOf, definedConfig, rejectUnknownOptions } from './validate.js';

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

const KNOWN = ['numOutputs', 'inputDim', 'kernelInitializer', 'seed'];

/**
 * The linear gate `scores = x · W_g` (`W_g` `[Dg, N]`, no bias), computed in float32 — the gate of
 * Shazeer 2017, GShard, Switch and expert choice. Honours `excludedExperts`.
 *
 * @example
 * ```ts
 * const gate = new LinearGate({ numOutputs: 8, seed: 1 });
 * ```
 */
export class LinearGate extends tf.serialization.Serializable implements Gate {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'LinearGate';
  /** Score columns `N`. */
  readonly numOutputs: number;
  /** Honours {@link RouteOptions.excludedExperts}. */
  readonly supportsExcludedExperts = true;
  /** The validated arguments. */
  readonly config: Readonly<LinearGateConfig>;
  private kernel: tf.Variable | undefined;
  private readonly seeds: SeedStream;

  /** Validates the arguments; builds now if `inputDim` is given. */
  constructor(args: LinearGateArgs) {
    super();
    const where = 'LinearGate';
    rejectUnknownOptions(where, args, KNOWN);
    this.config = { ...args, kernelInitializer: args.kernelInitializer ?? 'glorotUniform' };
    checkInteger(where, 'numOutputs', args.numOutputs, 1);
    if (args.inputDim !== undefined) checkInteger(where, 'inputDim', args.inputDim, 1);
    checkOneOf(where, 'kernelInitializer', this.config.kernelInitializer, ['zeros', 'glorotUniform', 'switch']);
    this.numOutputs = args.numOutputs;
    this.seeds = new SeedStream(args.seed);
    if (args.inputDim !== undefined) this.build(args.inputDim);
  }

  /** Creates `W_g` `[Dg, N]`; a second call is a no-op. */
  build(inputDim: number): void {
    if (this.kernel === undefined) this.kernel = createGateKernel(inputDim, this.numOutputs, this.config.kernelInitializer, this.seeds.next());
  }

  /** `[W_g]`; empty before the gate is built. */
  get trainableVariables(): tf.Variable[] {
    return this.kernel === undefined ? [] : [this.kernel];
  }

  /** `[T, Dg]` → `[T, N]` = `x · W_g`, excluded experts at `EXCLUDED_LOGIT`. */
  scores(gateInput: tf.Tensor2D, options: RouteOptions): GateOutput {
    this.build(gateInput.shape[gateInput.rank - 1]!);
    const kernel = this.kernel!;
    checkGateInput('LinearGate.scores', gateInput, kernel.shape[0]!);
    const logits = tf.tidy(() => excludeExperts(tf.matMul(tf.cast(gateInput, 'float32'), kernel as tf.Tensor2D) as tf.Tensor2D, options.excludedExperts)); // [T, N]
    return { logits };
  }

  /** A copy of `W_g` `[Dg, N]`. */
  gateWeights(): tf.Tensor2D {
    return tf.clone(this.builtKernel('LinearGate.gateWeights')) as tf.Tensor2D;
  }

  /** A new gate over the columns `keep`, their weights copied; this gate is unchanged. */
  selectExperts(keep: readonly number[]): LinearGate {
    const where = 'LinearGate.selectExperts';
    const kernel = this.builtKernel(where);
    checkExpertSelection(where, keep, this.numOutputs);
    const gate = new LinearGate({ ...this.config, numOutputs: keep.length, inputDim: kernel.shape[0]! });
    copyExpertSlices(gate.kernel!, kernel, keep, 1);
    return gate;
  }

  private builtKernel(where: string): tf.Variable {
    if (this.kernel === undefined) throw new MoEArgumentError(where, 'this', 'a built gate (give inputDim, call build or scores once)', 'a gate without weights');
    return this.kernel;
  }

  /** The constructor arguments. */
  override getConfig(): tf.serialization.ConfigDict {
    return definedConfig(this.config);
  }

  /** Rebuilds a gate (fresh weights) from its config. */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(config);
  }

  /** Releases `W_g`. */
  dispose(): void {
    this.kernel?.dispose();
    this.kernel = undefined;
  }
}
