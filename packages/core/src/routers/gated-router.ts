import * as tf from '@tensorflow/tfjs-core';
import { arg, type ArgsTable } from '../components/args-table.js';
import { requireCapability, type Capability } from '../components/capabilities.js';
import { Component } from '../components/component.js';
import { MoEArgumentError } from '../util/errors.js';
import { checkRouteOptions } from '../util/validate.js';
import type { Gate } from '../contracts/gate.js';
import type { CapacityConfig } from '../routing/capacity-config.js';
import type { RouteOptions, Router, RouterOutput } from '../contracts/router.js';
import type { RoutingAlgorithm } from '../contracts/routing-algorithm.js';

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
 * Variables are saved as `gate/…` and `algorithm/…`.
 *
 * @example
 * ```ts
 * import { GatedRouter, LinearGate } from '@moekit/core';
 * import { ExpertChoice } from '@moekit/router-balanced';
 *
 * const router = new GatedRouter({ gate: new LinearGate({ numOutputs: 8 }), algorithm: new ExpertChoice({ numExperts: 8 }) });
 * ```
 */
export class GatedRouter extends Component<GatedRouterArgs> implements Router {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'GatedRouter';
  /** The arguments: the gate, the algorithm (scoring as many columns as the gate gives) and the capacity. */
  static readonly argsTable: ArgsTable<GatedRouterArgs> = {
    gate: arg.component<Gate>(),
    algorithm: arg.component<RoutingAlgorithm>({
      check: (where, _name, algorithm, resolved) => {
        const wanted = algorithm.numScores ?? algorithm.numExperts;
        const gate = resolved['gate'] as Gate;
        if (gate.numOutputs !== wanted) {
          throw new MoEArgumentError(where, 'gate.numOutputs', `${wanted} (the algorithm's ${algorithm.numScores === undefined ? 'numExperts' : 'numScores'})`, String(gate.numOutputs));
        }
      },
    }),
    capacity: arg.value<CapacityConfig>({ optional: true }),
  };

  /** The gate. */
  get gate(): Gate {
    return this.config.gate;
  }

  /** The routing algorithm. */
  get algorithm(): RoutingAlgorithm {
    return this.config.algorithm;
  }

  /** Token-choice capacity, if given. */
  get capacity(): CapacityConfig | undefined {
    return this.config.capacity;
  }

  /** Experts `E`. */
  get numExperts(): number {
    return this.algorithm.numExperts;
  }

  /** Choices per token `K` (nominal for algorithms that plan themselves). */
  get k(): number {
    return this.algorithm.k;
  }

  /** The gate's `excludedExperts` and `gateWeights` capabilities. */
  override get capabilities(): ReadonlySet<Capability> {
    return new Set([...(this.gate.capabilities ?? [])].filter((c) => c !== 'selectExperts'));
  }

  /** The gate's input width `Dg` once built, if the gate reports it. */
  get inputDim(): number | undefined {
    return this.gate.inputDim;
  }

  /** Builds the gate for inputs of width `inputDim`. */
  build(inputDim: number): void {
    this.assertLive('GatedRouter.build');
    this.gate.build?.(inputDim);
  }

  /** Scores with the gate, routes with the algorithm, and sums their aux losses. */
  route(gateInput: tf.Tensor2D, options: RouteOptions): RouterOutput {
    this.assertLive('GatedRouter.route');
    checkRouteOptions('GatedRouter.route', options);
    const scored = this.gate.scores(gateInput, options);
    let out: RouterOutput;
    try {
      out = this.algorithm.route(scored.logits, options);
    } catch (error) {
      tf.dispose(Object.values(scored.auxLosses ?? {}).filter((l): l is tf.Scalar => l !== undefined)); // nothing leaks when the algorithm rejects its input
      throw error;
    } finally {
      scored.logits.dispose();
    }
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
    this.assertLive('GatedRouter.gateWeights');
    return requireCapability(this.gate, 'gateWeights', 'GatedRouter.gateWeights', 'gate').gateWeights();
  }
}
