import * as tf from '@tensorflow/tfjs-core';
import { checkInteger } from '@moekit/core';

/**
 * The "random" baseline: `[E]` scores drawn uniformly from `[0, 1)` with `seed`, so the experts kept
 * are a uniformly random subset (reproducible for a given seed).
 */
export function randomScores(numExperts: number, seed: number): number[] {
  checkInteger('randomScores', 'numExperts', numExperts, 1);
  checkInteger('randomScores', 'seed', seed, 0);
  const draw = tf.randomUniform([numExperts], 0, 1, 'float32', seed); // [E]
  const scores = Array.from(draw.dataSync());
  draw.dispose();
  return scores;
}
