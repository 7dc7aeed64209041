import * as tf from '@tensorflow/tfjs';

/**
 * The error `fn` throws, and how many tensors it left behind (what a rejected call must keep at 0); an
 * error of its own when `fn` does not throw. Shared by the router and expert-bank boundary suites.
 */
export function failure(fn: () => unknown): { error: unknown; leaked: number } {
  const before = tf.memory().numTensors;
  try {
    tf.dispose(fn() as tf.TensorContainer);
  } catch (error) {
    return { error, leaked: tf.memory().numTensors - before };
  }
  throw new Error('expected an error');
}
