import * as tf from '@tensorflow/tfjs-core';
import type { Router, TokenChoiceOutput } from '../contracts/router.js';
import { MoEArgumentError } from '../util/errors.js';

/** Configuration of a {@link FixedRouter}. */
export interface FixedRouterArgs {
  /** `[T][K]` chosen experts (`-1` = choice not used). */
  expertIndex: number[][];
  /** `[T][E]` probabilities returned as `probs` (and `log(probs)` as logits). */
  probs: number[][];
  /** Optional `[T]` priority. */
  priority?: number[];
}

/**
 * A router that ignores its input and returns fixed choices: for tests of capacity, slots, dispatch
 * and combine that must not depend on a learned gate. Its aux loss is 0.
 */
export class FixedRouter implements Router {
  /** `E`, the width of `probs`. */
  readonly numExperts: number;
  /** `K`, the width of `expertIndex`. */
  readonly k: number;
  /** None: a fixed router learns nothing. */
  readonly trainableVariables: tf.Variable[] = [];
  private readonly args: FixedRouterArgs;

  /** Stores the fixed choices. */
  constructor(args: FixedRouterArgs) {
    if (args.expertIndex.length !== args.probs.length) {
      throw new MoEArgumentError('FixedRouter', 'probs', `${args.expertIndex.length} rows (one per token of expertIndex)`, `${args.probs.length} rows`);
    }
    this.args = args;
    this.numExperts = args.probs[0]?.length ?? 0;
    this.k = args.expertIndex[0]?.length ?? 0;
  }

  /** Returns the fixed choices; `gateInput` must have as many rows as there are fixed tokens. */
  route(gateInput: tf.Tensor2D): TokenChoiceOutput {
    const numTokens = this.args.expertIndex.length;
    if (gateInput.shape[0] !== numTokens) {
      throw new MoEArgumentError('FixedRouter.route', 'gateInput', `${numTokens} tokens`, `${gateInput.shape[0]} tokens`);
    }
    const probs = tf.tensor2d(this.args.probs, [numTokens, this.numExperts]);
    return {
      logits: tf.tidy(() => tf.log(tf.maximum(probs, 1e-30))) as tf.Tensor2D,
      probs,
      expertIndex: tf.tensor2d(this.args.expertIndex, [numTokens, this.k], 'int32'),
      ...(this.args.priority ? { priority: tf.tensor1d(this.args.priority) } : {}),
      auxLosses: { total: tf.scalar(0) },
    };
  }

  /** Nothing to release. */
  dispose(): void {}
}
