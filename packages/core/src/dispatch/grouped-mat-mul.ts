import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from '../util/custom-gradient.js';
import { MoEArgumentError } from '../util/errors.js';
import { checkRank, describe } from '../util/validate.js';

/** Options of {@link groupedMatMul}. */
export interface GroupedMatMulOptions {
  /** An activation applied inside the op (its gradient too): `'relu'`. Default none. */
  activation?: 'relu';
}

/**
 * MegaBlocks' grouped GEMM (Gale et al. 2022, "MegaBlocks: Efficient Sparse Training with
 * Mixture-of-Experts", §5) for the grouped layout: `rows` `[N, K]` holds the experts' rows back to back
 * (expert `e` owns the next `groupSizes[e]`), `weight` `[E, K, M]` one matrix per expert, and
 * `y[r] = rows[r] · weight[e(r)] (+ bias[e(r)])` `[N, M]`, one plain 2-D matMul per non-empty group.
 *
 * One custom-gradient op that saves only `rows` and `weight` (the caller's tensors, no copies):
 * `∂L/∂rows_e = dy_e · W_eᵀ`, `∂L/∂W_e = rows_eᵀ · dy_e` (zero for an empty group) and
 * `∂L/∂b_e = Σ_r dy_e[r]`. The same function written with `unstack`, `split` and `concat` on the tape
 * would hold a copy of every weight and of `rows`, and a second copy of the weights' gradient (the
 * per-expert pieces and their `stack`), until backward ends.
 *
 * @param rows `[N, K]`, `N = Σ groupSizes`.
 * @param weight `[E, K, M]`.
 * @param groupSizes `E` non-negative integers.
 * @param bias optional `[E, M]` or `[E, 1, M]`.
 * @param options `activation: 'relu'` fuses `relu` into the op: it saves its output instead of the
 *   pre-activation and masks `dy` inside its own gradient, so neither the pre-activation `[N, M]` nor
 *   the masked gradient outlives it (tfjs keeps every saved tensor and every intermediate gradient of
 *   a training step until the whole backward pass ends).
 * @example
 * ```ts
 * import { groupedMatMul } from '@moekit/core';
 *
 * const hidden = groupedMatMul(rows, w1, plan.load.dataSync(), b1); // [N, H]
 * ```
 */
export function groupedMatMul(rows: tf.Tensor, weight: tf.Tensor, groupSizes: ArrayLike<number>, bias?: tf.Tensor, options: GroupedMatMulOptions = {}): tf.Tensor2D {
  const where = 'groupedMatMul';
  checkRank(where, 'weight', weight, 3);
  checkRank(where, 'rows', rows, 2);
  const [E, K, M] = weight.shape as [number, number, number];
  const sizes = Array.from(groupSizes);
  if (sizes.length !== E || sizes.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new MoEArgumentError(where, 'groupSizes', `${E} non-negative integers (weight's axis 0)`, describe(sizes));
  }
  const N = sizes.reduce((a, b) => a + b, 0);
  const relu = options.activation === 'relu';
  if (options.activation !== undefined && !relu) throw new MoEArgumentError(where, 'options.activation', "'relu' or undefined", describe(options.activation));
  if (rows.shape[0] !== N || rows.shape[1] !== K) {
    throw new MoEArgumentError(where, 'rows', `shape [${N}, ${K}] (Σ groupSizes, weight's axis 1)`, `shape ${describe(rows.shape)}`);
  }
  if (bias !== undefined && (bias.size !== E * M || bias.shape[0] !== E || bias.shape[bias.rank - 1] !== M)) {
    throw new MoEArgumentError(where, 'bias', `shape [${E}, ${M}] or [${E}, 1, ${M}]`, `shape ${describe(bias.shape)}`);
  }
  const starts: number[] = []; // first row of each group
  let next = 0;
  for (const n of sizes) {
    starts.push(next);
    next += n;
  }
  const used = sizes.map((n, e) => (n > 0 ? e : -1)).filter((e) => e >= 0);
  // Each expert's rows and matrix are cut, used and released one expert at a time, so the transient
  // copies stay one expert's size.
  const group = (x: tf.Tensor, e: number) => tf.slice(x, [starts[e]!, 0], [sizes[e]!, x.shape[1]!]) as tf.Tensor2D; // [n_e, ·]
  const matrix = (w: tf.Tensor, e: number) => tf.reshape(tf.slice(w, [e, 0, 0], [1, K, M]), [K, M]) as tf.Tensor2D; // W_e

  const forward = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | undefined) => tf.tidy(() => {
    if (N === 0) return tf.zeros([0, M]);
    const outs = used.map((e) => tf.tidy(() => tf.matMul(group(x, e), matrix(w, e)))); // [n_e, M] each
    const y = outs.length === 1 ? outs[0]! : tf.concat(outs, 0); // [N, M]
    if (b === undefined) return relu ? tf.relu(y) : y;
    const rowExpert = tf.tensor1d(sizes.flatMap((n, e) => new Array<number>(n).fill(e)), 'int32'); // [N]
    const biased = tf.add(y, tf.gather(tf.reshape(b, [E, M]), rowExpert)); // + b[e(r)]
    return relu ? tf.relu(biased) : biased;
  });

  // `out` given: the fused relu's output, and each expert's dy is masked where it is 0 (relu'(z) = 1 for
  // z > 0, as tfjs's Relu gradient), one expert at a time so no [N, M] mask is ever whole
  const gradients = (dy: tf.Tensor, x: tf.Tensor, w: tf.Tensor, withBias: boolean, out?: tf.Tensor) => tf.tidy(() => {
    if (N === 0) return { dx: tf.zeros([0, K]), dw: tf.zeros([E, K, M]), db: withBias ? tf.zeros([E, M]) : undefined };
    const perExpert = used.map((e) => tf.tidy(() => {
      const d = out === undefined ? group(dy, e) : tf.mul(group(dy, e), tf.step(group(out, e))); // dy_e [n_e, M]
      return { dx: tf.matMul(d, matrix(w, e), false, true), dw: tf.matMul(group(x, e), d, true, false), db: withBias ? tf.sum(d, 0) : undefined }; // dy_e·W_eᵀ, rows_eᵀ·dy_e, Σ dy_e
    }));
    const of = (e: number) => perExpert[used.indexOf(e)]!;
    const dw = tf.stack(sizes.map((n, e) => (n > 0 ? of(e).dw : tf.zeros([K, M])))); // [E, K, M]
    const db = withBias ? tf.stack(sizes.map((n, e) => (n > 0 ? of(e).db! : tf.zeros([M])))) : undefined; // [E, M]
    const dxs = perExpert.map((p) => p.dx);
    return { dx: dxs.length === 1 ? dxs[0]! : tf.concat(dxs, 0), dw, db };
  });

  if (bias === undefined) {
    const op = customGradient<[tf.Tensor, tf.Tensor]>(([x, w], save) => {
      const value = forward(x, w, undefined);
      save(relu ? [x, w, value] : [x, w]);
      return {
        value,
        gradFunc: (dy, saved) => {
          const { dx, dw } = gradients(dy, saved[0]!, saved[1]!, false, saved[2]);
          return [dx, dw];
        },
      };
    });
    return op(rows, weight) as tf.Tensor2D;
  }
  const op = customGradient<[tf.Tensor, tf.Tensor, tf.Tensor]>(([x, w, b], save) => {
    const value = forward(x, w, b);
    save(relu ? [x, w, value] : [x, w]);
    return {
      value,
      gradFunc: (dy, saved) => {
        const { dx, dw, db } = gradients(dy, saved[0]!, saved[1]!, true, saved[2]);
        return [dx, dw, tf.reshape(db!, b.shape)];
      },
    };
  });
  return op(rows, weight, bias) as tf.Tensor2D;
}
