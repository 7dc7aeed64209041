import * as tf from '@tensorflow/tfjs-core';
import {
  arg,
  checkGateInput,
  checkInteger,
  Component,
  describeValue,
  MoEArgumentError,
  offTape,
  oneHotFloat,
  resolveCapacityConfig,
  type ArgsTable,
  type ArgSpec,
  type CapacityConfig,
  type ResolvedCapacityConfig,
  type RouteOptions,
  type Router,
  type TokenChoiceOutput,
} from '@moekit/core';
import { buildHashTable, checkFrequencies, type HashTableKind } from './hash-table.js';
import { SeededRandom } from './seeded-random.js';

/**
 * What a {@link HashRouter} hashes: `'tokenId'` — the token's vocabulary id, given as the gate input
 * `[T, 1]` (the paper's setting); `'featureBucket'` — a bucket of the token's features `[T, Dg]`:
 * the signs of `bucketBits` fixed random projections (SimHash), read as a binary number.
 */
export type HashOf = 'tokenId' | 'featureBucket';

/** Configuration of a {@link HashRouter}. */
export interface HashRouterArgs {
  /** Experts `E` (≥ 1). */
  numExperts: number;
  /** What is hashed. Default `'tokenId'`. */
  hashOf?: HashOf;
  /** Vocabulary size `V`: the table's entries (`'tokenId'` only, required there). Ids are taken modulo `V`. */
  vocabSize?: number;
  /** Random projections `b` (`'featureBucket'` only): the table has `2^b` entries. Default 8, at most 24. */
  bucketBits?: number;
  /** Feature width `Dg` (`'featureBucket'` only); when omitted the projection is drawn at the first input. */
  inputDim?: number;
  /** How the table spreads its entries over the experts (see {@link HashTableKind}). Default `'random'`. */
  table?: HashTableKind;
  /** Frequency of each table entry in the training data, for `table: 'balanced'` (the paper's greedy balancing). */
  tokenFrequencies?: number[];
  /**
   * Token-choice capacity, adopted by `MixtureOfExperts`. Default `{ train: 2, eval: 'auto' }`: a
   * fixed training factor, so a step makes no host read, and evaluation dropless where that costs no
   * extra read; `{ train: 0, eval: 0 }` is dropless (the paper's layer drops
   * nothing) at one `[E]` read per step.
   */
  capacity?: CapacityConfig;
  /** Seed of the table (and projection); when omitted one is drawn and kept in the config. Integer ≥ 0. */
  seed?: number;
}

/** A {@link HashRouter}'s arguments with every default filled in, the seed included. */
export interface HashRouterConfig {
  /** Experts `E`. */
  numExperts: number;
  /** What is hashed. */
  hashOf: HashOf;
  /** Vocabulary size (`'tokenId'`). */
  vocabSize?: number;
  /** Projection bits (`'featureBucket'`). */
  bucketBits?: number;
  /** Feature width (`'featureBucket'`), if given. */
  inputDim?: number;
  /** How the table spreads its entries. */
  table: HashTableKind;
  /** Entry frequencies for a balanced table. */
  tokenFrequencies?: number[];
  /** Token-choice capacity. */
  capacity: ResolvedCapacityConfig;
  /** The seed the table (and projection) were drawn from. */
  seed: number;
}

const PROJECTION_STREAM = 0x5bd1e995; // the projection's draws are a stream apart from the table's

/** The default capacity: a fixed training factor 2 (no host read), evaluation dropless where that costs no read. */
const HASH_CAPACITY: CapacityConfig = { train: 2 };

/** Why an argument of the other `hashOf` mode must stay unset. */
const MODE_INPUT: Record<HashOf, string> = { tokenId: 'the gate input is [T, 1] token ids', featureBucket: 'the table has 2^bucketBits entries' };

/**
 * An integer argument that only `hashOf: mode` takes: an error when given with the other mode;
 * with `mode`, `defaultValue` when omitted, or required unless `optional`.
 */
function modeArg(name: string, mode: HashOf, options: { defaultValue?: number; max?: number; optional?: boolean }): ArgSpec<number> {
  const expected = `an integer >= 1 with hashOf '${mode}'`;
  return {
    optional: true, // unset in the other mode; required in its own through defaultFrom
    expected,
    defaultFrom: (resolved) => {
      if (resolved['hashOf'] !== mode) return undefined;
      if (options.defaultValue === undefined && options.optional !== true) throw new MoEArgumentError('HashRouter', name, expected, 'undefined');
      return options.defaultValue;
    },
    check: (where, argName, value, resolved) => {
      const hashOf = resolved['hashOf'] as HashOf;
      if (hashOf !== mode) throw new MoEArgumentError(where, argName, `undefined with hashOf '${hashOf}' (${MODE_INPUT[hashOf]})`, describeValue(value));
      checkInteger(where, argName, value, 1, options.max);
    },
  };
}

/** Entries of the table: `V` (`'tokenId'`) or `2^b` (`'featureBucket'`). */
function tableSize(config: Pick<HashRouterConfig, 'hashOf' | 'vocabSize' | 'bucketBits'>): number {
  return config.hashOf === 'tokenId' ? config.vocabSize! : 2 ** config.bucketBits!;
}

/**
 * Hash routing, Roller et al. 2021 ("Hash Layers For Large Sparse Models",
 * https://arxiv.org/abs/2106.04426, §3): each token goes to the expert a fixed hash of its token id
 * names, `a_t = table[id_t mod V]`, with weight 1 (the paper's hash layer has no gate: `y_t = f_{a_t}(x_t)`).
 * Nothing is learned, so routing cannot collapse and needs no balancing loss; the table is a fixed
 * random lookup `[V] → E` drawn from `seed` (Random Hash), or balanced over given token frequencies
 * (the paper's Balanced assignment; see {@link buildHashTable}). It is a non-trainable int32 tensor,
 * applied with `gather` on the device, off the gradient tape: no host read, no variable.
 *
 * `hashOf: 'featureBucket'` routes by content instead of id (for inputs without a vocabulary): the
 * bucket of features `x` `[Dg]` is `Σ_b 2^b · 1[x · r_b > 0]` over `b = 0 … bucketBits − 1` fixed
 * random directions `r_b ~ N(0, I)` drawn from the seed — random-hyperplane LSH (SimHash; Charikar
 * 2002), a 1-bit quantisation of a random projection — and its expert is `table[bucket]`. Nearby
 * features share buckets; `x` and `c·x` (`c > 0`) always do.
 *
 * Capacity: a hash does not balance a batch (a uniform hash spreads `T` tokens as Binomial(T, 1/E);
 * natural text repeats its frequent tokens), so the default factor is 2.0 in training and
 * evaluation. Overflowing tokens are dropped (weight 0, counted in the metrics); dropless
 * (`capacity: { train: 0, eval: 0 }`) keeps every token but reads the `[E]` demand each step, which
 * stalls a GPU backend. A balanced table over real frequencies narrows the spread.
 *
 * @example
 * ```ts
 * import { MixtureOfExperts } from '@moekit/core';
 * import { HashRouter } from '@moekit/router-balanced';
 *
 * const router = new HashRouter({ numExperts: 8, vocabSize: 32000, seed: 1 });
 * const moe = new MixtureOfExperts({ router, experts });
 * const { output } = moe.apply(x, { training: true, gateInput: tokenIds }); // tokenIds [T, 1] int32
 * ```
 */
export class HashRouter extends Component<HashRouterArgs, HashRouterConfig> implements Router {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'HashRouter';
  /** The arguments: defaults (the seed drawn when omitted), and the checks that depend on `hashOf`. */
  static readonly argsTable: ArgsTable<HashRouterArgs> = {
    numExperts: arg.integer({ min: 1 }),
    hashOf: arg.oneOf<HashOf>(['tokenId', 'featureBucket'], { default: 'tokenId' }),
    vocabSize: modeArg('vocabSize', 'tokenId', {}),
    bucketBits: modeArg('bucketBits', 'featureBucket', { defaultValue: 8, max: 24 }),
    inputDim: modeArg('inputDim', 'featureBucket', { optional: true }),
    table: arg.oneOf<HashTableKind>(['random', 'balanced'], { default: 'random' }),
    tokenFrequencies: arg.value<number[]>({
      optional: true,
      check: (where, name, value, resolved) => checkFrequencies(where, name, value, tableSize(resolved as Pick<HashRouterConfig, 'hashOf'>), resolved['table'] as HashTableKind),
    }),
    capacity: arg.value<CapacityConfig>({ expected: 'a CapacityConfig (merged into the defaults by the constructor)' }),
    seed: arg.integer({ min: 0, defaultFrom: () => Math.floor(Math.random() * 2 ** 31) }),
  };
  /** One expert per token. */
  readonly k = 1;
  // The table and the projection are fixed functions of the config (its seed is always saved), so
  // they are rebuilt exactly on load and are not variables: nothing to save, nothing to train.
  private readonly hostTable: Int32Array;
  private readonly tableTensor: tf.Tensor1D;
  private projection: tf.Tensor2D | undefined;

  /** Validates the arguments and draws the table (and the projection, if `inputDim` is given). */
  constructor(args: HashRouterArgs) {
    super(withResolvedCapacity(args));
    this.hostTable = buildHashTable({
      size: tableSize(this.config),
      numExperts: this.numExperts,
      kind: this.config.table,
      ...(this.config.tokenFrequencies !== undefined ? { frequencies: this.config.tokenFrequencies } : {}),
      seed: this.config.seed,
    });
    this.tableTensor = tf.keep(tf.tensor1d(this.hostTable, 'int32'));
    if (this.config.inputDim !== undefined) this.build(this.config.inputDim);
  }

  /** Experts `E`. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /** The capacity MixtureOfExperts adopts (default `{ train: 2, eval: 'auto' }`). */
  get capacity(): CapacityConfig {
    return this.config.capacity;
  }

  /** A copy of the hash table: entry `v` → expert. */
  lookupTable(): Int32Array {
    return this.hostTable.slice();
  }

  /** Draws the `[Dg, bucketBits]` projection (`'featureBucket'`) for inputs of width `inputDim`; a no-op once drawn, and for `'tokenId'`. */
  build(inputDim: number): void {
    this.assertLive('HashRouter.build');
    if (this.config.hashOf !== 'featureBucket' || this.projection !== undefined) return;
    checkInteger('HashRouter.build', 'inputDim', inputDim, 1);
    const bits = this.config.bucketBits!;
    const random = new SeededRandom(this.config.seed ^ PROJECTION_STREAM);
    const values = Float32Array.from({ length: inputDim * bits }, () => random.normal());
    this.projection = tf.keep(tf.tensor2d(values, [inputDim, bits])); // [Dg, b] r_b ~ N(0, I), from the seed
  }

  /**
   * `[T]` int32 table entry of each token: `id mod V` (`'tokenId'`, gate input `[T, 1]` int32 or
   * integer-valued float32), or the SimHash bucket of the features (`'featureBucket'`, `[T, Dg]`).
   * Off the gradient tape; no host read (integer-valued floats are not checked: that would be one).
   */
  hashIds(gateInput: tf.Tensor2D): tf.Tensor1D {
    const where = 'HashRouter.route';
    this.assertLive(where);
    if (gateInput.dtype !== 'int32' && gateInput.dtype !== 'float32') {
      throw new MoEArgumentError(where, 'gateInput', 'dtype int32 or float32', `dtype ${gateInput.dtype}`);
    }
    if (this.config.hashOf === 'tokenId') {
      if (gateInput.rank !== 2 || gateInput.shape[1] !== 1) {
        throw new MoEArgumentError(where, 'gateInput', "token ids of shape [T, 1] (pass them as MixtureOfExperts' gateInput)", `shape ${describeValue(gateInput.shape)}`);
      }
      const V = this.config.vocabSize!;
      return offTape(() => tf.tidy(() => {
        const ids = gateInput.dtype === 'int32' ? gateInput : tf.cast(tf.floor(gateInput), 'int32'); // [T, 1]
        return tf.mod(tf.reshape(ids, [-1]), tf.scalar(V, 'int32')) as tf.Tensor1D; // [T] floor mod: in [0, V) for negative ids too
      }));
    }
    this.build(gateInput.shape[gateInput.rank - 1]!);
    checkGateInput(where, gateInput, this.projection!.shape[0]);
    const bits = this.config.bucketBits!;
    return offTape(() => tf.tidy(() => {
      const above = tf.cast(tf.greater(tf.matMul(tf.cast(gateInput, 'float32'), this.projection!), 0), 'float32'); // [T, b] 1[x · r_b > 0]
      const powers = tf.tensor2d(Array.from({ length: bits }, (_, b) => 2 ** b), [bits, 1]); // [b, 1]
      return tf.cast(tf.reshape(tf.matMul(above, powers), [-1]), 'int32') as tf.Tensor1D; // [T] Σ_b 2^b · bit_b (exact in float32 up to 2^24)
    }));
  }

  /** Looks each token's expert up in the table: `expertIndex` `[T, 1]`, weight 1 (`probs` one-hot). */
  route(gateInput: tf.Tensor2D, _options: RouteOptions): TokenChoiceOutput {
    this.assertLive('HashRouter.route');
    const table = this.tableTensor;
    const ids = this.hashIds(gateInput);
    return offTape(() => tf.tidy(() => {
      const expert = tf.gather(table, ids); // [T] a_t = table[id_t]
      const probs = oneHotFloat(expert, this.numExperts) as tf.Tensor2D; // [T, E] weight 1 at a_t (no gating)
      ids.dispose();
      return { logits: tf.clone(probs), probs, expertIndex: tf.expandDims(expert, 1) as tf.Tensor2D, auxLosses: { total: tf.scalar(0) as tf.Scalar } };
    }));
  }

  /** Releases the table and the projection tensors (extra state: the router has no variables). */
  override dispose(): void {
    if (this.isDisposed) return;
    tf.dispose([this.tableTensor, this.projection]);
    this.projection = undefined;
    super.dispose();
  }
}

/**
 * `args` with its capacity merged into the hash defaults, so `config.capacity` (and the saved
 * config) holds every field, as `MixtureOfExperts` adopts it. The args table checks; it cannot merge.
 */
function withResolvedCapacity(args: HashRouterArgs): HashRouterArgs {
  if (typeof args !== 'object' || args === null) return args;
  return { ...args, capacity: resolveCapacityConfig('HashRouter', args.capacity, HASH_CAPACITY) };
}

/** Creates a {@link HashRouter}, mirroring `tf.layers.dense(args)`. */
export function hashRouter(args: HashRouterArgs): HashRouter {
  return new HashRouter(args);
}
