import type * as tf from '@tensorflow/tfjs-core';
import type { AuxLosses } from './aux-losses.js';
import type { Capability } from '../components/capabilities.js';
import type { RouteOptions } from './router.js';

/** What a {@link Gate} returns: scores, and losses that belong to the gate itself (if any). */
export interface GateOutput {
  /** `[T, N]` scores, one column per expert (or per slot, for Soft MoE: `N = E·S`). */
  logits: tf.Tensor2D;
  /** The gate's own aux losses (e.g. none for a linear gate); merged with the algorithm's. */
  auxLosses?: Partial<AuxLosses>;
}

/**
 * The gate contract: scores `[T, Dg]` gate inputs, one column per expert, and nothing else — no
 * selection, no capacity (Tutel's gates produce logits; the selection is shared code). Linear,
 * cosine (X-MoE), convolutional or hashed: any `[T, Dg] → [T, N]` function with variables.
 * A {@link RoutingAlgorithm} turns the scores into a plan; a {@link GatedRouter} joins the two.
 */
export interface Gate {
  /** Columns `N` of the scores (experts `E`; `E·S` for Soft MoE). */
  readonly numOutputs: number;
  /** The gate's trainable variables. */
  readonly trainableVariables: tf.Variable[];
  /** Creates the weights for gate inputs of width `inputDim`, if the gate builds lazily (a no-op once built). */
  build?(inputDim: number): void;
  /** The gate-input width `Dg` the gate was built for, once known (see {@link Router.inputDim}). */
  readonly inputDim?: number | undefined;
  /** `[T, Dg]` → `[T, N]` scores. Excluded experts (if honoured) score `EXCLUDED_LOGIT`. */
  scores(gateInput: tf.Tensor2D, options: RouteOptions): GateOutput;
  /** What the gate can do beyond scoring (`'excludedExperts'`, `'gateWeights'`, `'selectExperts'`). See {@link Capability}. */
  readonly capabilities?: ReadonlySet<Capability>;
  /** Releases the gate's variables. */
  dispose(): void;
}
