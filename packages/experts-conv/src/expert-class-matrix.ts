import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, MoEArgumentError } from '@moekit/core';

/** Labelled images to analyse: `images` `[N, ...]` and one integer class per image. */
export interface LabelledImages {
  /** `[N, ...]`, split into batches along axis 0. */
  images: tf.Tensor;
  /** `N` classes in `[0, numClasses)`. */
  labels: ArrayLike<number>;
}

/** Options of {@link expertClassMatrix}. */
export interface ExpertClassMatrixOptions {
  /** Experts `E`. */
  numExperts: number;
  /** Classes. */
  numClasses: number;
  /** Images per call of `assign`. Default 256. */
  batchSize?: number;
}

/** Expert-by-class counts and the statistics of Pavlitska et al. 2022's specialisation analysis. */
export interface ExpertClassMatrix {
  /** `counts[e][c]`: images of class `c` whose first choice was expert `e` (`E × classes`). */
  counts: number[][];
  /** Images counted (Σ counts = the dataset size). */
  total: number;
  /** Per-expert load: the fraction of images routed to each expert (sums to 1). */
  load: number[];
  /** Per-expert class entropy `H(C | e) = −Σ_c p(c|e) log₂ p(c|e)` in bits; `NaN` for an unused expert. */
  classEntropy: number[];
  /** Mutual information `I(E; C) = Σ p(e,c) log₂(p(e,c) / (p(e) p(c)))` in bits: 0 when routing ignores the class. */
  mutualInformation: number;
}

/**
 * Routes `data` batch by batch with `assign` (images → `[B]` or `[B, K]` int32 experts; the first column,
 * the top choice, is counted) and tabulates experts against classes, as Pavlitska et al. 2022
 * (arXiv:2204.10598, §4) do to show that gates specialise experts by class. Returns the counts, each
 * expert's load and class entropy, and the mutual information between expert and class.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { expertClassMatrix } from '@moekit/experts-conv';
 *
 * const m = expertClassMatrix((x) => tf.tidy(() => router.route(gate.apply(stem(x)), { training: false }).expertIndex), test, { numExperts: 4, numClasses: 10 });
 * console.log(m.mutualInformation, m.counts);
 * ```
 */
export function expertClassMatrix(assign: (images: tf.Tensor) => tf.Tensor, data: LabelledImages, options: ExpertClassMatrixOptions): ExpertClassMatrix {
  const where = 'expertClassMatrix';
  const { numExperts: E, numClasses } = options;
  const batchSize = options.batchSize ?? 256;
  checkInteger(where, 'numExperts', E, 1);
  checkInteger(where, 'numClasses', numClasses, 1);
  checkInteger(where, 'batchSize', batchSize, 1);
  const N = data.images.shape[0]!;
  if (data.labels.length !== N) throw new MoEArgumentError(where, 'data.labels', `${N} labels (images' axis 0)`, `${data.labels.length}`);
  const counts = Array.from({ length: E }, () => new Array<number>(numClasses).fill(0));
  for (let start = 0; start < N; start += batchSize) {
    const size = Math.min(batchSize, N - start);
    const batch = tf.slice(data.images, start, size);
    const chosen = assign(batch);
    batch.dispose();
    const values = chosen.dataSync();
    const k = chosen.rank === 1 ? 1 : chosen.shape[1]!;
    if (chosen.shape[0] !== size) {
      chosen.dispose();
      throw new MoEArgumentError(where, 'assign', `[${size}] or [${size}, K] experts for a batch of ${size}`, `shape [${chosen.shape.join(', ')}]`);
    }
    chosen.dispose();
    for (let i = 0; i < size; i++) {
      const e = values[i * k]!;
      const c = data.labels[start + i]!;
      if (!Number.isInteger(e) || e < 0 || e >= E) throw new MoEArgumentError(where, 'assign', `experts in [0, ${E})`, `${e} for image ${start + i}`);
      if (!Number.isInteger(c) || c < 0 || c >= numClasses) throw new MoEArgumentError(where, 'data.labels', `classes in [0, ${numClasses})`, `${c} for image ${start + i}`);
      counts[e]![c]! += 1;
    }
  }
  return { counts, ...expertClassStatistics(counts) };
}

/** Load, per-expert class entropy (bits) and expert–class mutual information (bits) of an `E × classes` count matrix. */
export function expertClassStatistics(counts: number[][]): Omit<ExpertClassMatrix, 'counts'> {
  const total = counts.flat().reduce((a, b) => a + b, 0);
  const rowSums = counts.map((row) => row.reduce((a, b) => a + b, 0));
  const colSums = counts[0]!.map((_, c) => counts.reduce((a, row) => a + row[c]!, 0));
  const load = rowSums.map((r) => (total === 0 ? 0 : r / total));
  const classEntropy = counts.map((row, e) => (rowSums[e] === 0 ? NaN : row.reduce((h, n) => (n === 0 ? h : h - (n / rowSums[e]!) * Math.log2(n / rowSums[e]!)), 0)));
  let mutualInformation = 0;
  counts.forEach((row, e) => row.forEach((n, c) => {
    if (n > 0) mutualInformation += (n / total) * Math.log2((n * total) / (rowSums[e]! * colSums[c]!));
  }));
  return { total, load, classEntropy, mutualInformation };
}
