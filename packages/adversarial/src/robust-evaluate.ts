import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, MoEArgumentError, rejectUnknownOptions } from '@moekit/core';
import type { AdvMoEModel } from './adv-moe-model.js';
import { checkLabelledImages, epochOrder, takeBatch, type LabelledImages } from './labelled-images.js';
import type { ModelAttack } from './model-attack.js';

/** Options of {@link robustEvaluate}. */
export interface RobustEvaluateOptions {
  /** Images per forward pass and attack. Default 100. */
  batchSize?: number;
}

/** What {@link robustEvaluate} measured. */
export interface RobustEvaluation {
  /** Images evaluated. */
  count: number;
  /** Fraction of clean images classified correctly (standard accuracy, SA). */
  cleanAccuracy: number;
  /** Fraction of attacked images classified correctly (robust accuracy, RA). */
  robustAccuracy: number;
  /** The router's robustness: fraction of images whose expert choice changes under the attack (lower is more robust). */
  expertChangeRate: number;
  /** `1 − expertChangeRate`: fraction whose expert choice on the attacked image equals the clean one. */
  routerAgreement: number;
}

/**
 * Standard accuracy, robust accuracy and the router's robustness of an MoE classifier under an attack
 * (AdvMoE's evaluation, Zhang et al. 2023, Sec. 5: SA, RA, and how often the attack flips the routing).
 * Every batch is attacked with `attack` (e.g. {@link pgdAttack}), then both clean and attacked images go
 * through `model.forward(·, false)`.
 *
 * @example
 * ```ts
 * import { pgdAttack, robustEvaluate } from '@moekit/adversarial';
 *
 * const { cleanAccuracy, robustAccuracy, expertChangeRate } = robustEvaluate(model, test, pgdAttack({ epsilon: 0.1, steps: 10 }));
 * ```
 */
export function robustEvaluate(model: AdvMoEModel, data: LabelledImages, attack: ModelAttack, options: RobustEvaluateOptions = {}): RobustEvaluation {
  const where = 'robustEvaluate';
  checkLabelledImages(where, data);
  if (typeof attack !== 'function') throw new MoEArgumentError(where, 'attack', 'a function (model, images, labels) => images, e.g. pgdAttack(…)', String(attack));
  rejectUnknownOptions(where, options, ['batchSize']);
  const batchSize = options.batchSize ?? 100;
  checkInteger(where, 'batchSize', batchSize, 1);
  const n = data.images.shape[0]!;
  const order = epochOrder(n, false, 0);
  let clean = 0;
  let robust = 0;
  let changed = 0;
  for (let start = 0; start < n; start += batchSize) {
    const batch = takeBatch(data, order.subarray(start, Math.min(n, start + batchSize)));
    const adversarial = attack(model, batch.images, batch.labels);
    const counts = tf.tidy(() => {
      const c = model.forward(batch.images, false);
      const a = model.forward(adversarial, false);
      const hit = (logits: tf.Tensor) => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), batch.labels), 'int32'));
      const flips = tf.sum(tf.cast(tf.notEqual(c.expertIndex, a.expertIndex), 'int32'));
      return tf.stack([hit(c.logits), hit(a.logits), flips]); // [3] int32
    });
    const [h, r, f] = counts.dataSync();
    clean += h!;
    robust += r!;
    changed += f!;
    tf.dispose([batch.images, batch.labels, adversarial, counts]);
  }
  const expertChangeRate = changed / n;
  return { count: n, cleanAccuracy: clean / n, robustAccuracy: robust / n, expertChangeRate, routerAgreement: 1 - expertChangeRate };
}
