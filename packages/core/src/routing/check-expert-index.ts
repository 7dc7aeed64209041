import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '../util/errors.js';
import { checkDtype, checkInteger, checkRank } from '../util/validate.js';

/** Checks `expertIndex`'s rank, dtype and width `K ≤ E` (shape only: no host read). @internal */
export function checkExpertIndexShape(where: string, expertIndex: tf.Tensor, numExperts: number): void {
  checkRank(where, 'expertIndex', expertIndex, 2);
  checkDtype(where, 'expertIndex', expertIndex, 'int32');
  checkInteger(where, 'k (expertIndex.shape[1])', expertIndex.shape[1]!, 1, numExperts);
}

/** int32 scalar: how many entries of `expertIndex` lie outside `[-1, E)` (on the device). @internal */
export function countInvalidExperts(expertIndex: tf.Tensor, numExperts: number): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.logicalOr(tf.less(expertIndex, -1), tf.greaterEqual(expertIndex, numExperts)), 'int32')) as tf.Scalar);
}

/** Validates `expertIndex` `[T, K]` int32 with values in `[-1, E)` and returns its data (a host read). @internal */
export function readExpertIndex(where: string, expertIndex: tf.Tensor, numExperts: number): Int32Array {
  checkExpertIndexShape(where, expertIndex, numExperts);
  const data = expertIndex.dataSync() as Int32Array;
  for (let i = 0; i < data.length; i++) {
    const e = data[i]!;
    if (e < -1 || e >= numExperts) {
      throw new MoEArgumentError(where, 'expertIndex', `values in [-1, ${numExperts}) (-1 = choice not used)`, `${e} at flat index ${i}`);
    }
  }
  return data;
}

