import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError, offTape } from '@moekit/core';

/**
 * The routing-classification labels of Spatial MoE (Dryden & Hoefler 2022, arXiv:2211.13491, §2.2; the
 * reference's `construct_routing_labels`, spcl/smoe `smoe/models/loss.py` at b62f291): at each location a
 * selected expert gets label 1 when its output was correct and 0 when not, and every unselected expert
 * gets `(K − #correct) / (E − K)` — the probability mass the wrong choices should have gone to, shared
 * among the experts not tried.
 *
 * `correct` `[B, H, W, K]` (0/1, in the order of `expertIndex`), `expertIndex` `[H, W, K]` (a spatial
 * gate, the same for every sample) or `[B, H, W, K]` int32 → labels `[B, H, W, E]`.
 */
export function routingClassificationLabels(correct: tf.Tensor, expertIndex: tf.Tensor, numExperts: number): tf.Tensor4D {
  const where = 'routingClassificationLabels';
  if (correct.rank !== 4) throw new MoEArgumentError(where, 'correct', 'rank 4 [B, H, W, K]', `shape [${correct.shape.join(', ')}]`);
  const K = correct.shape[3]!;
  if (expertIndex.shape.slice(-3).join() !== correct.shape.slice(1).join() || (expertIndex.rank !== 3 && expertIndex.rank !== 4)) {
    throw new MoEArgumentError(where, 'expertIndex', `shape [${correct.shape.slice(1).join(', ')}] or [${correct.shape.join(', ')}]`, `shape [${expertIndex.shape.join(', ')}]`);
  }
  if (numExperts <= K) throw new MoEArgumentError(where, 'numExperts', `more than K = ${K} (labels need an unselected expert)`, String(numExperts));
  return tf.tidy(() => offTape(() => { // labels are constants of the step (the reference builds them under no_grad)
    const selected = tf.oneHot(tf.cast(expertIndex, 'int32'), numExperts); // [(B,) H, W, K, E]
    const c = tf.cast(correct, 'float32'); // [B, H, W, K]
    const wrong = tf.sub(K, tf.sum(c, -1, true)); // [B, H, W, 1]
    const unselectedWeight = tf.div(wrong, numExperts - K); // [B, H, W, 1]
    const chosen = tf.sum(selected, -2); // [(B,) H, W, E]: 1 where selected
    const selectedLabel = tf.sum(tf.mul(selected, tf.expandDims(c, -1)), -2); // [B, H, W, E]
    return tf.add(selectedLabel, tf.mul(tf.sub(1, chosen), unselectedWeight)) as tf.Tensor4D;
  }));
}

/**
 * The routing-classification (RC) loss of Spatial MoE (Dryden & Hoefler 2022, §2.2): binary cross-entropy
 * with logits between the gate's routing weights `g` `[H, W, E]` (broadcast over the batch) or
 * `[B, H, W, E]` and the labels of {@link routingClassificationLabels}, averaged over every entry —
 * `mean(max(g, 0) − g·z + log(1 + e^{−|g|}))` (the reference applies
 * `F.binary_cross_entropy_with_logits(routing_weights, labels)`). The labels are constants: the loss
 * trains the gate only.
 *
 * @example
 * ```ts
 * const correct = correctByErrorQuantile(tf.sub(y, target), 0.7);         // [B, H, W, K]
 * const labels = routingClassificationLabels(correct, expertIndex, 4);      // [B, H, W, 4]
 * const rc = routingClassificationLoss(gate.routingWeights(), labels);      // scalar
 * ```
 */
export function routingClassificationLoss(routingWeights: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  const where = 'routingClassificationLoss';
  if (labels.rank !== 4 || routingWeights.shape.join() !== labels.shape.slice(4 - routingWeights.rank).join()) {
    throw new MoEArgumentError(where, 'routingWeights', `shape [${labels.shape.slice(1).join(', ')}] or [${labels.shape.join(', ')}] (the labels')`, `shape [${routingWeights.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const z = labels; // [B, H, W, E]
    const g = routingWeights; // [(B,) H, W, E]
    const bce = tf.add(tf.sub(tf.relu(g), tf.mul(g, z)), tf.log1p(tf.exp(tf.neg(tf.abs(g))))); // [B, H, W, E]
    return tf.mean(bce) as tf.Scalar;
  });
}

/**
 * Correct where `|output − target| ≤ abstol + reltol·|target|` (the reference's
 * `get_correct_indices_by_tol`, defaults `abstol` 1e-5, `reltol` 0 as its RC loss calls it); float32 0/1.
 */
export function correctByTolerance(output: tf.Tensor, target: tf.Tensor, abstol = 1e-5, reltol = 0): tf.Tensor {
  return tf.tidy(() => offTape(() => tf.cast(tf.lessEqual(tf.abs(tf.sub(output, target)), tf.add(abstol, tf.mul(reltol, tf.abs(target)))), 'float32')));
}
