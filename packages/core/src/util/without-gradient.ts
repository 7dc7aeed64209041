import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `fn` with the gradient tape off and returns what it returns: every tensor it makes is a
 * constant to autodiff, unconnected to the variables even when computed from their values. Routing
 * decisions (`topk`, sorting, comparisons, cumulative sums, scatters) go through here, because tfjs
 * has no gradient for `TopK`, `ScatterNd`, `Less`/`Greater` and others, and one such node anywhere
 * between a variable and the loss breaks the whole backward pass (DESIGN.md, "The data path").
 *
 * How: `fn` runs inside the forward function of a `tf.customGrad` whose only input is a fresh
 * scalar — tfjs records no op made inside a custom gradient's forward pass, and the custom op itself
 * depends on nothing the tape tracks.
 *
 * @example
 * ```ts
 * import { offTape } from '@moekit/core';
 *
 * const { slot, load } = offTape(() => placeOnDevice(expertIndex)); // plan constants, no tape nodes
 * ```
 */
export function offTape<R>(fn: () => R): R {
  let inside: R | undefined;
  const anchor = tf.scalar(0);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    inside = fn();
    mapTensors(inside, (t) => tf.keep(t)); // the custom op's forward runs in a tidy of its own
    const x = args[0] as tf.Tensor;
    return { value: tf.zerosLike(x), gradFunc: () => tf.zerosLike(x) };
  });
  tf.dispose([anchor, op(anchor)]);
  // hand the results to the caller's scope (a clone shares the data; the kept originals go)
  return mapTensors(inside as R, (t) => {
    const owned = tf.clone(t);
    t.dispose();
    return owned;
  });
}

/** Applies `f` to every tensor in a tensor, an array or a plain object of them (one level deep or more). */
function mapTensors<R>(value: R, f: (t: tf.Tensor) => tf.Tensor): R {
  if (value instanceof tf.Tensor) return f(value) as R;
  if (Array.isArray(value)) return value.map((v) => mapTensors(v, f)) as R;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapTensors(v, f)])) as R;
  }
  return value;
}

/**
 * Evaluates `fn(input)` off the gradient tape (see {@link offTape}): the result is a constant to
 * autodiff, and no gradient flows into `input` through it. Used for the routing decisions made from
 * scores: `topk`, `argMax`, comparisons.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { withoutGradient } from '@moekit/core';
 *
 * const top1 = withoutGradient(logits, (l) => tf.argMax(l, 1)); // int32 [T], no tape node
 * ```
 */
export function withoutGradient<R extends tf.Tensor>(input: tf.Tensor, fn: (input: tf.Tensor) => R): R {
  return offTape(() => fn(input));
}
