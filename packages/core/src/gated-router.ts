import * as tf from '@tensorflow/tfjs-core';
import { componentConfig, fromComponentConfig } from './component-config.js';
import { MoEArgumentError } from './errors.js';
import type { Gate } from './gate.js';
import type { CapacityConfig } from './capacity-config.js';
import type { RouteOptions, Router, RouterOutput } from './router.js';
import type { RoutingAlgorithm } from './routing-algorithm.js';

/** Configuration of a {@link GatedRouter}. */
export interface GatedRouterArgs {
  /** Scores the gate input: `[T, Dg] → [T, N]` with `N` = the algorithm's `numScores ?? numExperts`. */
  gate: Gate;
  /** Turns the scores into token choices or a plan. */
  algorithm: RoutingAlgorithm;
  /** Capacity for token choice, adopted by `MixtureOfExperts` (see {@link CapacityConfig}). */
  capacity?: CapacityConfig;
}

/**
 * A router made of a {@link Gate} (scores) and a {@link RoutingAlgorithm} (decisions): the v2 way to
 * compose routing, so any gate (linear, cosine, convolutional) works with any algorithm (top-k,
 * expert choice, Soft MoE, balanced assignment). The gate's and the algorithm's aux losses are summed.
 *
 * @example
 * ```ts
 * const router = new GatedRouter({ gate: new LinearGate({ numOutputs: 8 }), algorithm: new ExpertChoice({ numExperts: 8 }) });
 * ```
 */
export class GatedRouter extends tf.serialization.Serializable implements Router {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'GatedRouter';
  /** The gate. */
  readonly gate: Gate;
  /** The routing algorithm. */
  readonly algorithm: RoutingAlgorithm;
  /** Token-choice capacity, if given. */
  readonly capacity: CapacityConfig | undefined;

  /** Checks that the gate scores as many columns as the algorithm reads. */
  constructor(args: GatedRouterArgs) {
    super();
    const where = 'GatedRouter';
    for (const name of ['gate', 'algorithm'] as const) {
      if (args?.[name] === undefined) throw new MoEArgumentError(where, name, 'a value', 'undefined');
    }
    const wanted = args.algorithm.numScores ?? args.algorithm.numExperts;
    if (args.gate.numOutputs !== wanted) {
      throw new MoEArgumentError(where, 'gate.numOutputs', `${wanted} (the algorithm's ${args.algorithm.numScores === undefined ? 'numExperts' : 'numScores'})`, String(args.gate.numOutputs));
    }
    this.gate = args.gate;
    this.algorithm = args.algorithm;
    this.capacity = args.capacity;
  }

  /** Experts `E`. */
  get numExperts(): number {
    return this.algorithm.numExperts;
  }

  /** Choices per token `K` (nominal for algorithms that plan themselves). */
  get k(): number {
    return this.algorithm.k;
  }

  /** The gate's variables. */
  get trainableVariables(): tf.Variable[] {
    return this.gate.trainableVariables;
  }

  /** True: the gate scores excluded experts {@link EXCLUDED_LOGIT} (when it honours them). */
  get supportsExcludedExperts(): boolean {
    return (this.gate as { supportsExcludedExperts?: boolean }).supportsExcludedExperts === true;
  }

  /** Builds the gate for inputs of width `inputDim`. */
  build(inputDim: number): void {
    this.gate.build?.(inputDim);
  }

  /** Scores with the gate, routes with the algorithm, and sums their aux losses. */
  route(gateInput: tf.Tensor2D, options: RouteOptions): RouterOutput {
    const scored = this.gate.scores(gateInput, options);
    const out = this.algorithm.route(scored.logits, options);
    scored.logits.dispose();
    const gateLosses = Object.entries(scored.auxLosses ?? {}).filter((e): e is [string, tf.Scalar] => e[1] !== undefined);
    if (gateLosses.length === 0) return out;
    const parts: Record<string, tf.Scalar> = {};
    let total = out.auxLosses.total;
    for (const [name, loss] of gateLosses) {
      if (name === 'total') {
        const sum = tf.add(total, loss) as tf.Scalar;
        total.dispose();
        loss.dispose();
        total = sum;
      } else {
        parts[name] = loss;
      }
    }
    return { ...out, auxLosses: { ...out.auxLosses, ...parts, total } };
  }

  /** The gate's per-expert weight vectors `[Dg, E]` (expert pruning); an error if the gate has none. */
  gateWeights(): tf.Tensor2D {
    if (typeof this.gate.gateWeights !== 'function') {
      throw new MoEArgumentError('GatedRouter.gateWeights', 'gate', 'a gate with gateWeights()', 'a gate without it');
    }
    return this.gate.gateWeights();
  }

  /** Releases the gate's variables and the algorithm's state. */
  dispose(): void {
    this.gate.dispose();
    this.algorithm.dispose?.();
  }

  /** The gate's and the algorithm's class names and configs. */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      gate: componentConfig(this.gate, 'GatedRouter.getConfig', 'gate') as unknown as tf.serialization.ConfigDict,
      algorithm: componentConfig(this.algorithm, 'GatedRouter.getConfig', 'algorithm') as unknown as tf.serialization.ConfigDict,
      ...(this.capacity ? { capacity: this.capacity as tf.serialization.ConfigDict } : {}),
    };
  }

  /** Rebuilds the gate and the algorithm from the serialisation registry. */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls({
      gate: fromComponentConfig<Gate>(config['gate'], 'GatedRouter.fromConfig', 'gate'),
      algorithm: fromComponentConfig<RoutingAlgorithm>(config['algorithm'], 'GatedRouter.fromConfig', 'algorithm'),
      ...(config['capacity'] ? { capacity: config['capacity'] } : {}),
    });
  }
}
