import * as tf from '@tensorflow/tfjs-core';
import { arg, checkInteger, checkOneOf, checkRank, Component, describeValue, MoEArgumentError, resolveArgs, type ArgsTable, type ResolvedSoFar } from '@moekit/core';
import { hashGridLevels, type HashGridLevel } from './hash-grid-levels.js';
import { spatialHash } from './spatial-hash.js';

/** Configuration of a {@link HashGridEncoding}. Defaults are scaled down from the paper's for tfjs. */
export interface HashGridEncodingArgs {
  /** Levels `L` (≥ 1). Default 8 (the paper: 16). */
  numLevels?: number;
  /** `log2` of the per-level table size `T` (1..24). Default 14 (the paper: 14..24). */
  log2TableSize?: number;
  /** Features `F` per table entry (≥ 1). Default 2, as the paper. */
  featuresPerLevel?: number;
  /** Coarsest resolution `N_min` (≥ 1). Default 4 (the paper: 16). */
  baseResolution?: number;
  /** Finest resolution `N_max` (≥ `N_min`). Default 128 (the paper: 512 to 524288). */
  finestResolution?: number;
  /** Entries start `U(−initScale, initScale)`. Default 1e-4, as the paper. */
  initScale?: number;
  /**
   * Where the trilinear interpolation runs: `'device'` (`tf.gather`, multiply, sum: stays on a GPU),
   * `'host'` (a JS loop, 5-10× faster on the cpu backend, but it reads the table back every call) or
   * `'auto'`: host on `cpu` and `wasm`, device otherwise. Default `'auto'`.
   */
  interpolation?: HashInterpolation;
  /** Seed of the table initialiser. Default: unseeded. */
  seed?: number;
}

/** Where a {@link HashGridEncoding} interpolates (see {@link HashGridEncodingArgs.interpolation}). */
export type HashInterpolation = 'auto' | 'device' | 'host';

/** A {@link HashGridEncoding}'s arguments with every default filled in. */
export interface HashGridEncodingConfig extends Required<Omit<HashGridEncodingArgs, 'seed'>>, Pick<HashGridEncodingArgs, 'seed'> {}

/** `where: argument 'baseResolution' expected <= finestResolution (N_max)` when the coarsest level is finer than the finest. */
function checkBaseResolution(where: string, name: string, value: number, resolved: ResolvedSoFar): void {
  checkInteger(where, name, value, 1);
  const finest = resolved['finestResolution'] as number;
  if (value > finest) throw new MoEArgumentError(where, name, `<= finestResolution (${finest})`, String(value));
}

/** The arguments of a {@link HashGridEncoding}: defaults and checks (`finestResolution` first, as `baseResolution` is checked against it). */
const hashGridEncodingArgsTable: ArgsTable<HashGridEncodingArgs> = {
  numLevels: arg.integer({ min: 1, default: 8 }),
  log2TableSize: arg.integer({ min: 1, max: 24, default: 14 }),
  featuresPerLevel: arg.integer({ min: 1, default: 2 }),
  finestResolution: arg.integer({ min: 1, default: 128 }),
  baseResolution: arg.value<number>({ default: 4, expected: 'an integer >= 1', check: checkBaseResolution }),
  initScale: arg.number({ min: 0, default: 1e-4 }),
  interpolation: arg.oneOf<HashInterpolation>(['auto', 'device', 'host'], { default: 'auto' }),
  seed: arg.number({ optional: true }),
};

/** Fills in and validates a {@link HashGridEncodingArgs} (errors name the argument). */
export function resolveHashGridEncodingArgs(args: HashGridEncodingArgs, where = 'HashGridEncoding'): HashGridEncodingConfig {
  return resolveArgs<HashGridEncodingArgs, HashGridEncodingConfig>(where, hashGridEncodingArgsTable, args);
}

/** Host-side lookup of `T` points: for each point, level and cube corner, a table row and a trilinear weight. */
export interface HashGridLookup {
  /** `[T · L · 8]` int32 rows of the concatenated table, point-major, then level, then corner. */
  indices: Int32Array;
  /** `[T · L · 8]` trilinear weights, laid out as `indices`; each point's 8 weights per level sum to 1. */
  weights: Float32Array;
}

/** Throws unless `points` is `[T, 3]` of a numeric dtype (float32 or int32). */
export function checkPoints(where: string, name: string, points: tf.Tensor): void {
  checkRank(where, name, points, 2);
  if (points.shape[1] !== 3) throw new MoEArgumentError(where, name, 'width 3 ([T, 3] points)', `shape ${describeValue(points.shape)}`);
  if (points.dtype !== 'float32' && points.dtype !== 'int32') throw new MoEArgumentError(where, name, 'dtype float32 or int32', `dtype ${points.dtype}`);
}

/**
 * Where a batch of points handed to {@link HashGridEncoding.encode} came from, so that a bad coordinate
 * is named as the caller sees it: `where` and the argument `name`, the `shape` of the caller's tensor,
 * and the flat index of this batch's first coordinate in it (`offset`; an expert's rows inside the MoE's
 * buffer). @internal
 */
export interface PointsSource {
  where: string;
  name: string;
  shape: readonly number[];
  offset: number;
}

/**
 * Throws on the first coordinate that is NaN or ±Infinity, as core's `checkAllFinite` words it. Clamping
 * would send a NaN to vertex 0 and an infinity to the cube's face: a wrong answer, not an error. It scans
 * the host copy the lookup needs anyway, so the check costs no extra read on any backend.
 */
function checkFiniteCoordinates(data: ArrayLike<number>, { where, name, shape, offset }: PointsSource, shapeText = `shape ${describeValue(shape)}`): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) throw new MoEArgumentError(where, name, 'finite values', `${v} at flat index ${offset + i} (${shapeText})`);
  }
}

/**
 * The multi-resolution hash encoding of Instant-NGP (Müller et al. 2022, "Instant Neural Graphics
 * Primitives with a Multiresolution Hash Encoding", https://arxiv.org/abs/2201.05989, §3): `L` levels of
 * `T = 2^log2T` entries × `F` features, resolutions growing geometrically from `N_min` to `N_max`
 * ({@link hashGridLevels}); a point's 8 surrounding vertices are hashed ({@link spatialHash}, Eq. 4; or
 * indexed 1:1 on a level that fits), their entries trilinearly interpolated, and the `L` levels
 * concatenated: `[T, 3]` points in the unit cube → `[T, L·F]`. Points outside `[0, 1]^3` are clamped.
 *
 * The integer part — corners, hashes, weights — runs on the host in exact uint32 arithmetic, off the
 * gradient tape (it needs no gradient: the weights are constants of the point); the tables are read
 * with one `tf.gather`, whose gradient reaches them (or, on host backends, by the same sums in JS; see
 * {@link HashGridEncodingArgs.interpolation}). It reads the points back once per call (like the
 * MoE's grouped layout); gradients with respect to the points are not computed.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { HashGridEncoding } from '@moekit/experts-hash-nerf';
 *
 * const enc = new HashGridEncoding({ numLevels: 8, log2TableSize: 14, baseResolution: 4, finestResolution: 128 });
 * const features = enc.apply(tf.randomUniform([1024, 3])); // [1024, 16]
 * ```
 */
export class HashGridEncoding extends Component<HashGridEncodingArgs, HashGridEncodingConfig> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'HashGridEncoding';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<HashGridEncodingArgs> = hashGridEncodingArgsTable;
  /** The levels, coarsest first. */
  readonly levels: readonly HashGridLevel[];

  /** Validates the arguments (unknown options rejected by name) and draws the tables `U(−initScale, initScale)`. */
  constructor(args: HashGridEncodingArgs = {}) {
    super(args);
    const { numLevels, log2TableSize, baseResolution, finestResolution, featuresPerLevel, initScale, seed } = this.config;
    this.levels = hashGridLevels(numLevels, log2TableSize, baseResolution, finestResolution);
    const rows = this.levels.reduce((n, l) => n + l.tableSize, 0);
    this.addVariable('table', tf.randomUniform([rows, featuresPerLevel], -initScale, initScale, 'float32', seed));
  }

  /** `[Σ_l tableSize_l, F]` every level's table, concatenated (level `l` from row `levels[l].offset`). */
  get table(): tf.Variable {
    return this.variable('table', 'HashGridEncoding.table');
  }

  /** Output width `L · F`. */
  get outputDim(): number {
    return this.config.numLevels * this.config.featuresPerLevel;
  }

  /**
   * Table rows and trilinear weights of `T` points given as `[T · 3]` coordinates (row-major), computed
   * on the host. Corner `c` of a cell is the vertex `c0 + (c & 1, (c >> 1) & 1, (c >> 2) & 1)`.
   */
  lookup(points: ArrayLike<number>): HashGridLookup {
    const where = 'HashGridEncoding.lookup';
    if (points.length % 3 !== 0) throw new MoEArgumentError(where, 'points', 'a length divisible by 3 ([T · 3] coordinates)', `length ${points.length}`);
    checkFiniteCoordinates(points, { where, name: 'points', shape: [points.length], offset: 0 }, `length ${points.length}`);
    return this.lookupRows(points);
  }

  /** {@link HashGridEncoding.lookup} of coordinates already checked. */
  private lookupRows(points: ArrayLike<number>): HashGridLookup {
    const numPoints = Math.floor(points.length / 3);
    const L = this.levels.length;
    const log2T = this.config.log2TableSize;
    const indices = new Int32Array(numPoints * L * 8);
    const weights = new Float32Array(numPoints * L * 8);
    const corner = [0, 0, 0];
    const frac = [0, 0, 0];
    for (let t = 0; t < numPoints; t++) {
      for (let l = 0; l < L; l++) {
        const { resolution: N, dense, offset } = this.levels[l]!;
        for (let a = 0; a < 3; a++) {
          const p = Math.min(1, Math.max(0, points[t * 3 + a]!)); // clamp to the unit cube
          const s = p * N; // position in grid units
          const c0 = Math.min(Math.floor(s), N - 1); // the cell's lower vertex; x = 1 lies in the last cell
          corner[a] = c0;
          frac[a] = s - c0;
        }
        const base = (t * L + l) * 8;
        for (let c = 0; c < 8; c++) {
          const dx = c & 1;
          const dy = (c >> 1) & 1;
          const dz = (c >> 2) & 1;
          const x = corner[0]! + dx;
          const y = corner[1]! + dy;
          const z = corner[2]! + dz;
          const row = dense ? x + (N + 1) * (y + (N + 1) * z) : spatialHash(x, y, z, log2T);
          indices[base + c] = offset + row;
          // trilinear weight: Π_a (d_a ? f_a : 1 − f_a)
          weights[base + c] = (dx ? frac[0]! : 1 - frac[0]!) * (dy ? frac[1]! : 1 - frac[1]!) * (dz ? frac[2]! : 1 - frac[2]!);
        }
      }
    }
    return { indices, weights };
  }

  /**
   * Encodes `[T, 3]` points in the unit cube → `[T, L·F]` features; gradients reach
   * {@link HashGridEncoding.table}. `interpolation` (default {@link HashGridEncodingArgs.interpolation})
   * picks the device path (`tf.gather` + multiply + sum) or the host path (the same sums in a JS loop
   * inside a `tf.customGrad`, its gradient a JS scatter-add); both give the same values and gradients.
   */
  apply(points: tf.Tensor, interpolation: HashInterpolation = this.config.interpolation): tf.Tensor2D {
    return this.encode(points, interpolation, { where: 'HashGridEncoding.apply', name: 'points', shape: points.shape, offset: 0 });
  }

  /**
   * {@link HashGridEncoding.apply} whose errors name the caller's argument (`source`): a NaN or infinite
   * coordinate is an `MoEArgumentError` naming its flat index in the caller's tensor. The points are read
   * back once (the lookup runs on the host), and the finite check scans that copy. @internal
   */
  encode(points: tf.Tensor, interpolation: HashInterpolation, source: PointsSource): tf.Tensor2D {
    this.assertLive(source.where);
    checkPoints(source.where, source.name, points);
    checkOneOf(source.where, 'interpolation', interpolation, ['auto', 'device', 'host']);
    const numPoints = points.shape[0]!;
    const coordinates = points.dataSync(); // [T · 3]
    checkFiniteCoordinates(coordinates, source);
    const lookup = this.lookupRows(coordinates);
    const onHost = interpolation === 'host' || (interpolation === 'auto' && ['cpu', 'wasm'].includes(tf.getBackend()));
    return onHost ? this.interpolateOnHost(numPoints, lookup) : this.interpolateOnDevice(numPoints, lookup);
  }

  private interpolateOnDevice(numPoints: number, { indices, weights }: HashGridLookup): tf.Tensor2D {
    const L = this.levels.length;
    const F = this.config.featuresPerLevel;
    return tf.tidy(() => {
      const rows = tf.gather(this.table, tf.tensor1d(indices, 'int32')); // [T·L·8, F] corner entries
      const w = tf.tensor3d(weights, [numPoints * L, 8, 1]); // [T·L, 8, 1]
      const mixed = tf.sum(tf.mul(tf.reshape(rows, [numPoints * L, 8, F]), w), 1); // [T·L, F] Σ_c w_c · e_c
      return tf.reshape(mixed, [numPoints, L * F]) as tf.Tensor2D; // [T, L·F]
    });
  }

  private interpolateOnHost(numPoints: number, { indices, weights }: HashGridLookup): tf.Tensor2D {
    const L = this.levels.length;
    const F = this.config.featuresPerLevel;
    const interpolate = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const table = args[0] as tf.Tensor;
      const entries = table.dataSync();
      const out = new Float32Array(numPoints * L * F); // [T·L, F] Σ_c w_c · e_c
      for (let i = 0; i < indices.length; i++) {
        const w = weights[i]!;
        if (w === 0) continue;
        const src = indices[i]! * F;
        const dst = (i >> 3) * F;
        for (let f = 0; f < F; f++) out[dst + f]! += w * entries[src + f]!;
      }
      const gradFunc = (dy: tf.Tensor) => {
        const g = dy.dataSync();
        const grad = new Float32Array(table.size); // ∂/∂e_r = Σ over the corners reading row r of w_c · dy
        for (let i = 0; i < indices.length; i++) {
          const w = weights[i]!;
          if (w === 0) continue;
          const dst = indices[i]! * F;
          const src = (i >> 3) * F;
          for (let f = 0; f < F; f++) grad[dst + f]! += w * g[src + f]!;
        }
        return tf.tensor2d(grad, table.shape as [number, number]);
      };
      return { value: tf.tensor2d(out, [numPoints, L * F]), gradFunc };
    });
    return interpolate(this.table) as tf.Tensor2D;
  }
}
