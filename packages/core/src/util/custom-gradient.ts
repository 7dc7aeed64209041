import * as tf from '@tensorflow/tfjs-core';

/** What a {@link customGradient} forward function returns. @internal */
export interface CustomGradientResult {
  /** The op's output. */
  value: tf.Tensor;
  /** One float32 gradient per input (zeros for int32 inputs), from the output's gradient and the saved tensors. */
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
}

/**
 * `tf.customGrad` with the inputs as an array and `save` as its own argument (tfjs types them as one
 * rest parameter). The op records one tape node holding only what `save` kept, instead of every
 * intermediate of `forward` with its own gradient: the tool for keeping training memory near the
 * minimum. Run the forward and gradient bodies under `tf.tidy` so their temporaries die at once. @internal
 */
export function customGradient<I extends tf.Tensor[]>(forward: (inputs: I, save: tf.GradSaveFunc) => CustomGradientResult): (...inputs: I) => tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return forward(args.slice(0, -1) as I, save);
  });
  return (...inputs: I) => op(...inputs);
}
