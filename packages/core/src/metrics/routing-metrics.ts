import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '../util/errors.js';
import { keptChoicesPerToken } from '../routing/kept-choices-per-token.js';
import { isSparsePlan, planNumTokens, type RoutingPlan } from '../contracts/routing-plan.js';
import { checkShape } from '../util/validate.js';
import { offTape } from '../util/without-gradient.js';

/** What one routing call did, as plain numbers (safe to log; nothing to dispose). */
export interface RoutingMetricsValues {
  /** Slots per expert `C` used in this call. */
  capacity: number;
  /** `[E]` kept (token, expert) pairs per expert. */
  load: number[];
  /** `[E]` (token, expert) pairs that asked for each expert. */
  needed: number[];
  /** Pairs dropped for lack of capacity. */
  droppedCount: number;
  /** `droppedCount / Σ needed` (0 when nothing was routed). */
  droppedFraction: number;
  /** `[E]` importance `Σ_x probs(x)_i` (Shazeer et al. 2017, Eq. 6). */
  importance: number[];
  /** Mean over tokens of the router's entropy `−Σ_i p_i ln p_i`, in nats (`ln E` = uniform). */
  routerEntropy: number;
  /** Mean number of kept experts per token (≤ K for token choice; any number for expert choice). */
  expertsPerToken: number;
  /** Fraction of tokens that no expert processed (dropped everywhere, or chosen by no expert). */
  tokensWithoutExpert: number;
}

/**
 * Metrics of one routing call, computed on the device and read lazily: the first property read (or
 * {@link RoutingMetrics.read}, asynchronously) brings back one small packed tensor, so a training
 * step that never looks at its metrics makes no host read. A {@link MixtureOfExperts} releases the
 * unread metrics of a call when its next call starts; read them before, or call `read()`.
 *
 * @example
 * ```ts
 * const { metrics } = moe.apply(x, { training: true });
 * console.log(metrics.load, metrics.droppedFraction); // one synchronous read
 * const values = await metrics.read(); // or without blocking a GPU backend
 * ```
 */
export class RoutingMetrics implements RoutingMetricsValues {
  /** Slots per expert `C` (known without a read). */
  readonly capacity: number;
  private packed: tf.Tensor1D | undefined;
  private values: Omit<RoutingMetricsValues, 'capacity'> | undefined;
  private pending: Promise<RoutingMetricsValues> | undefined;
  private released = false;
  private readonly numExperts: number;

  /** Wraps a packed `[3E + 4]` tensor (see {@link routingMetrics}); takes ownership of it. @internal */
  constructor(packed: tf.Tensor1D, capacity: number, numExperts: number) {
    this.packed = packed;
    this.capacity = capacity;
    this.numExperts = numExperts;
  }

  /** `[E]` kept pairs per expert. */
  get load(): number[] { return this.sync().load; }
  /** `[E]` pairs that asked for each expert. */
  get needed(): number[] { return this.sync().needed; }
  /** Pairs dropped for lack of capacity. */
  get droppedCount(): number { return this.sync().droppedCount; }
  /** `droppedCount / Σ needed`. */
  get droppedFraction(): number { return this.sync().droppedFraction; }
  /** `[E]` importance `Σ_x probs(x)_i`. */
  get importance(): number[] { return this.sync().importance; }
  /** Mean router entropy in nats. */
  get routerEntropy(): number { return this.sync().routerEntropy; }
  /** Mean kept experts per token. */
  get expertsPerToken(): number { return this.sync().expertsPerToken; }
  /** Fraction of tokens no expert processed. */
  get tokensWithoutExpert(): number { return this.sync().tokensWithoutExpert; }

  /** The packed `[3E + 4]` tensor while unread (load, needed, importance, dropped, entropy, experts per token, tokens without expert). @internal */
  packedTensor(): tf.Tensor1D {
    return this.alive('packedTensor');
  }

  /** True once the values are on the host (reading them again costs nothing). */
  get isRead(): boolean {
    return this.values !== undefined;
  }

  /** The values, read without blocking (`tensor.data()`); the packed tensor is released after. */
  read(): Promise<RoutingMetricsValues> {
    if (this.values !== undefined) return Promise.resolve(this.toJSON());
    if (this.pending === undefined) {
      const packed = this.alive('read');
      this.pending = packed.data().then((data) => {
        this.unpack(data as Float32Array);
        return this.toJSON();
      });
    }
    return this.pending;
  }

  /** All values as a plain object (one synchronous read if not read yet). */
  toJSON(): RoutingMetricsValues {
    return { capacity: this.capacity, ...this.sync() };
  }

  /**
   * Releases the packed tensor if it was never read; reading afterwards is an error. An asynchronous
   * read already in flight still resolves: the backend keeps the data until the read completes (webgl
   * and webgpu defer the disposal; cpu, wasm and tfjs-node have read it at once).
   */
  dispose(): void {
    if (this.pending !== undefined && this.values === undefined) {
      this.packed?.dispose(); // the engine forgets the tensor now; the in-flight read keeps its data
      this.packed = undefined;
      return;
    }
    this.packed?.dispose();
    this.packed = undefined;
    this.released = true;
  }

  private sync(): Omit<RoutingMetricsValues, 'capacity'> {
    if (this.values === undefined) this.unpack(this.alive('a property').dataSync() as Float32Array);
    return this.values!;
  }

  private alive(what: string): tf.Tensor1D {
    if (this.packed === undefined || this.packed.isDisposed) {
      throw new MoEArgumentError('RoutingMetrics', what, 'metrics read before the next call of the MoE that made them released them (or call read() right away)', this.released ? 'released metrics' : 'disposed metrics');
    }
    return this.packed;
  }

  private unpack(data: Float32Array): void {
    if (this.values !== undefined) return;
    const E = this.numExperts;
    const at = (i: number) => data[3 * E + i]!;
    const load = Array.from(data.subarray(0, E), Math.round);
    const needed = Array.from(data.subarray(E, 2 * E), Math.round);
    const droppedCount = Math.round(at(0));
    const totalNeeded = needed.reduce((a, b) => a + b, 0);
    this.values = {
      load,
      needed,
      droppedCount,
      droppedFraction: totalNeeded === 0 ? 0 : droppedCount / totalNeeded,
      importance: Array.from(data.subarray(2 * E, 3 * E)),
      routerEntropy: at(1),
      expertsPerToken: at(2),
      tokensWithoutExpert: at(3),
    };
    this.packed?.dispose();
    this.packed = undefined;
  }
}

/**
 * Summarises a routing plan and its probabilities `[T, E]` on the device: per-expert load and demand,
 * dropped pairs, importance, router entropy, experts per token and tokens no expert processed, packed
 * into one `[3E + 4]` tensor that {@link RoutingMetrics} reads when asked. No host read here.
 *
 * @example
 * ```ts
 * import { routingMetrics } from '@moekit/core';
 *
 * const m = routingMetrics(plan, probs);
 * console.log(m.load, m.droppedFraction); // the read happens here
 * ```
 */
export function routingMetrics(plan: RoutingPlan, probs: tf.Tensor2D): RoutingMetrics {
  const numTokens = planNumTokens(plan);
  const E = plan.numExperts;
  checkShape('routingMetrics', 'probs', probs, [numTokens, E]);
  const packed = offTape(() => tf.tidy(() => {
    const T = Math.max(numTokens, 1);
    const importance = tf.sum(probs, 0); // [E] Shazeer Eq. 6
    const entropy = tf.div(tf.neg(tf.sum(tf.mul(probs, tf.log(tf.maximum(probs, 1e-30))))), T); // mean −Σ p ln p (0·ln 0 = 0)
    let load: tf.Tensor;
    let needed: tf.Tensor;
    let dropped: tf.Tensor;
    let expertsPerToken: tf.Tensor;
    let tokensWithoutExpert: tf.Tensor;
    if (isSparsePlan(plan)) {
      load = tf.cast(plan.load, 'float32');
      needed = tf.cast(plan.needed, 'float32');
      dropped = tf.cast(plan.dropped, 'float32');
      const perToken = keptChoicesPerToken(plan, numTokens); // [T]
      expertsPerToken = tf.div(tf.sum(perToken), T);
      tokensWithoutExpert = tf.div(tf.sum(tf.cast(tf.equal(perToken, 0), 'float32')), T);
    } else {
      load = tf.fill([E], plan.capacity); // every slot is filled
      needed = load;
      dropped = tf.scalar(0);
      expertsPerToken = tf.scalar(E); // each token mixes every expert's slots
      tokensWithoutExpert = tf.scalar(0);
    }
    const scalars = tf.stack([dropped, entropy, expertsPerToken, tokensWithoutExpert].map((s) => tf.reshape(s, []))); // [4]
    return tf.concat([load, needed, importance, scalars]) as tf.Tensor1D; // [3E + 4]
  }));
  tf.keep(packed); // owned by the metrics object, even when called inside a tidy
  return new RoutingMetrics(packed, plan.capacity, E);
}
