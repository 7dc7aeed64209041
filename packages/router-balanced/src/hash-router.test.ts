import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { expectNoLeakedTensors, LinearExpertBank, countHostReads } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { HashRouter } from './hash-router.js';

function release(out: ReturnType<HashRouter['route']>) {
  tf.dispose([out.logits, out.probs, out.expertIndex, ...Object.values(out.auxLosses)]);
}

/** The experts a router picks for `gateInput`, read back (the test's read). */
function expertsOf(router: HashRouter, gateInput: tf.Tensor2D): number[] {
  const out = router.route(gateInput, { training: true });
  const experts = Array.from(out.expertIndex.dataSync());
  release(out);
  return experts;
}

/** Engine reads (sync and async) while `fn` runs. */
const hostReads = (fn: () => void) => { const r = countHostReads(fn); return r.sync + r.async; };

describe('HashRouter (token ids)', () => {
  it('sends each token id to the expert its table names, weight 1 (hand-checked against the table)', () => {
    const router = new HashRouter({ numExperts: 4, vocabSize: 8, seed: 1 });
    const table = Array.from(router.lookupTable());
    expect(table).toEqual([2, 0, 2, 3, 3, 1, 2, 2]); // buildHashTable's golden table for seed 1
    // ids 5, 0, 7, 5 → table[5] = 1, table[0] = 2, table[7] = 2, table[5] = 1; 13 mod 8 = 5 → 1; −1 mod 8 = 7 → 2
    const ids = tf.tensor2d([[5], [0], [7], [5], [13], [-1]], [6, 1], 'int32');
    const out = router.route(ids, { training: true });
    expect(out.expertIndex.arraySync()).toEqual([[1], [2], [2], [1], [1], [2]]);
    expect(out.probs.arraySync()[0]).toEqual([0, 1, 0, 0]); // one-hot: combine weight 1, no gating
    expect(out.auxLosses.total.dataSync()[0]).toBe(0);
    expect(router.trainableVariables).toEqual([]);
    // integer-valued float32 ids route the same
    const floats = tf.tensor2d([[5], [0], [7], [5], [13], [-1]]);
    expect(expertsOf(router, floats)).toEqual([1, 2, 2, 1, 1, 2]);
    tf.dispose([ids, floats]);
    release(out);
    router.dispose();
  });

  it('draws the same table from the same seed, and again after a serialisation round trip', () => {
    const a = new HashRouter({ numExperts: 8, vocabSize: 500, seed: 42, table: 'balanced' });
    const b = new HashRouter({ numExperts: 8, vocabSize: 500, seed: 42, table: 'balanced' });
    expect(b.lookupTable()).toEqual(a.lookupTable());
    expect(new HashRouter({ numExperts: 8, vocabSize: 500, seed: 43, table: 'balanced' }).lookupTable()).not.toEqual(a.lookupTable());
    const copy = HashRouter.fromConfig(HashRouter, a.getConfig()) as HashRouter;
    expect(copy.lookupTable()).toEqual(a.lookupTable());
    expect(copy.getConfig()).toEqual(a.getConfig());
    expect(tf.serialization.SerializationMap.getMap().classNameMap['HashRouter']).toBeDefined();
    // unseeded: the drawn seed is kept in the config, so the copy still has the same table
    const unseeded = new HashRouter({ numExperts: 8, vocabSize: 500 });
    expect(typeof unseeded.getConfig()['seed']).toBe('number');
    expect((HashRouter.fromConfig(HashRouter, unseeded.getConfig()) as HashRouter).lookupTable()).toEqual(unseeded.lookupTable());
    [a, b, copy, unseeded].forEach((r) => r.dispose());
  });

  it('balances a uniform id stream: every expert exactly its share with a balanced table', () => {
    // table 'balanced' over V = 64 ids: 8 ids per expert; the stream holds every id 4 times (T = 256) → 32 tokens per expert
    const router = new HashRouter({ numExperts: 8, vocabSize: 64, table: 'balanced', seed: 7 });
    const moe = new MixtureOfExperts({ router, experts: LinearExpertBank.identity(8, 2), layout: 'padded' });
    const ids = tf.tensor2d(Array.from({ length: 256 }, (_, t) => [(t * 37) % 64]), [256, 1], 'int32'); // 37 is coprime to 64: a permutation, 4 times
    const x = tf.randomNormal([256, 2], 0, 1, 'float32', 3);
    const r = moe.apply(x, { training: true, gateInput: ids });
    expect(r.metrics.toJSON()).toMatchObject({ capacity: 64, load: new Array(8).fill(32), droppedCount: 0 }); // C = ⌈2 · 256 / 8⌉ = 64
    expect(Array.from(r.output.dataSync())).toEqual(Array.from(x.dataSync())); // identity experts, weight 1: y = x exactly
    tf.dispose([ids, x, r.output, ...Object.values(r.auxLosses)]);
    moe.dispose();
  });

  it('trains its experts end to end with no host read in a padded step', () => {
    // the target of a token depends on its id's expert: y = (expert + 1) · x; a linear expert per hash bucket fits it exactly
    const router = new HashRouter({ numExperts: 4, vocabSize: 16, seed: 5 });
    const table = router.lookupTable();
    const moe = new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: 4, inputDim: 3, seed: 6 }), layout: 'padded', capacity: { train: 4 } });
    const idValues = Array.from({ length: 64 }, (_, t) => (t * 5) % 16);
    const ids = tf.tensor2d(idValues.map((v) => [v]), [64, 1], 'int32');
    const x = tf.randomNormal([64, 3], 0, 1, 'float32', 8);
    const target = tf.mul(x, tf.tensor2d(idValues.map((v) => [table[v]! + 1]))); // [64, 3]
    const optimizer = tf.train.adam(0.05);
    const losses: number[] = [];
    const step = () => optimizer.minimize(() => {
      const r = moe.apply(x, { training: true, gateInput: ids });
      return tf.mean(tf.square(tf.sub(r.output, target))) as tf.Scalar;
    }, true, moe.trainableVariables);
    for (let i = 0; i < 60; i++) {
      const loss = step()!;
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
    }
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 10);
    const noReturn = () => optimizer.minimize(() => {
      const r = moe.apply(x, { training: true, gateInput: ids });
      return tf.mean(tf.square(tf.sub(r.output, target))) as tf.Scalar;
    }, false, moe.trainableVariables);
    expect(hostReads(noReturn)).toBe(0);
    tf.dispose([ids, x, target]);
    optimizer.dispose();
    moe.dispose();
  });
});

describe('HashRouter (feature buckets)', () => {
  it('hashes the signs of fixed random projections: scale-invariant, complementary under negation, seeded', () => {
    const router = new HashRouter({ numExperts: 4, hashOf: 'featureBucket', bucketBits: 6, inputDim: 5, seed: 9 });
    const x = tf.randomNormal([32, 5], 0, 1, 'float32', 10) as tf.Tensor2D;
    const bucket = (input: tf.Tensor2D) => {
      const ids = router.hashIds(input);
      const values = Array.from(ids.dataSync());
      ids.dispose();
      return values;
    };
    const b = bucket(x);
    b.forEach((v) => expect(v >= 0 && v < 64).toBe(true)); // 2^6 buckets
    expect(new Set(b).size).toBeGreaterThan(10); // 32 random inputs spread over the buckets
    const scaled = tf.mul(x, 3) as tf.Tensor2D;
    const negated = tf.neg(x) as tf.Tensor2D;
    expect(bucket(scaled)).toEqual(b); // sign(3x · r) = sign(x · r)
    expect(bucket(negated)).toEqual(b.map((v) => 63 - v)); // every bit flips: (2^6 − 1) − bucket
    const table = router.lookupTable();
    expect(table.length).toBe(64);
    expect(expertsOf(router, x)).toEqual(b.map((v) => table[v]!)); // expert = table[bucket]
    // same seed → same projection and table, also built lazily from the first input
    const lazy = new HashRouter({ numExperts: 4, hashOf: 'featureBucket', bucketBits: 6, seed: 9 });
    expect(expertsOf(lazy, x)).toEqual(expertsOf(router, x));
    tf.dispose([x, scaled, negated]);
    router.dispose();
    lazy.dispose();
  });
});

describe('HashRouter arguments and memory', () => {
  it('rejects bad arguments by name', () => {
    expect(() => new HashRouter({ numExperts: 0, vocabSize: 4 })).toThrow("HashRouter: argument 'numExperts' expected an integer >= 1, got 0");
    expect(() => new HashRouter({ numExperts: 2 })).toThrow("HashRouter: argument 'vocabSize' expected an integer >= 1 with hashOf 'tokenId', got undefined");
    expect(() => new HashRouter({ numExperts: 2, vocabSize: 4, inputDim: 3 })).toThrow("argument 'inputDim' expected undefined with hashOf 'tokenId'");
    expect(() => new HashRouter({ numExperts: 2, hashOf: 'featureBucket', vocabSize: 4 })).toThrow("argument 'vocabSize' expected undefined with hashOf 'featureBucket'");
    expect(() => new HashRouter({ numExperts: 2, hashOf: 'featureBucket', bucketBits: 30 })).toThrow("argument 'bucketBits' expected an integer in [1, 24], got 30");
    expect(() => new HashRouter({ numExperts: 2, hashOf: 'position' as never, vocabSize: 4 })).toThrow("argument 'hashOf' expected one of 'tokenId' | 'featureBucket', got 'position'");
    expect(() => new HashRouter({ numExperts: 2, vocabSize: 4, tokenFrequencies: [1, 2, 3, 4] })).toThrow("HashRouter: argument 'tokenFrequencies' expected undefined unless the table is 'balanced'");
    expect(() => new HashRouter({ numExperts: 2, vocabSize: 4, table: 'balanced', tokenFrequencies: [1, 2] })).toThrow("argument 'tokenFrequencies' expected 4 numbers (one per entry), got 2 numbers");
    expect(() => new HashRouter({ numExperts: 2, vocabSize: 4, k: 2 } as never)).toThrow("HashRouter: argument 'k' expected one of the known options");
    expect(() => new HashRouter({ numExperts: 2, vocabSize: 4, capacity: { train: 'x' as never } })).toThrow("argument 'capacity.train' expected a finite number");
    const router = new HashRouter({ numExperts: 2, vocabSize: 4, seed: 1 });
    tf.tidy(() => {
      expect(() => router.route(tf.zeros([3, 2]) as tf.Tensor2D, { training: true })).toThrow("HashRouter.route: argument 'gateInput' expected token ids of shape [T, 1] (pass them as MixtureOfExperts' gateInput), got shape [3, 2]");
      expect(() => router.route(tf.tensor2d([[true]], [1, 1], 'bool') as tf.Tensor2D, { training: true })).toThrow("argument 'gateInput' expected dtype int32 or float32, got dtype bool");
    });
    const features = new HashRouter({ numExperts: 2, hashOf: 'featureBucket', inputDim: 3, seed: 1 });
    tf.tidy(() => {
      expect(() => features.route(tf.zeros([3, 2]) as tf.Tensor2D, { training: true })).toThrow("HashRouter.route: argument 'gateInput' expected width 3 (the router's inputDim), got shape [3, 2]");
    });
    router.dispose();
    features.dispose();
  });

  it("hands MixtureOfExperts its capacity (2 / 'auto'), leaks nothing, and frees its tensors on dispose", async () => {
    const router = new HashRouter({ numExperts: 4, vocabSize: 32, seed: 2 });
    const moe = new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: 4, inputDim: 3 }) });
    expect(moe.config.capacity).toMatchObject({ train: 2, eval: 'auto' });
    const ids = tf.tensor2d(Array.from({ length: 20 }, (_, t) => [t]), [20, 1], 'int32');
    const x = tf.randomNormal([20, 3]);
    for (const training of [true, false]) {
      await expectNoLeakedTensors(() => release(router.route(ids, { training })));
      await expectNoLeakedTensors(() => {
        const r = moe.apply(x, { training, gateInput: ids });
        tf.dispose([r.output, ...Object.values(r.auxLosses)]);
      });
    }
    tf.dispose([ids, x]);
    moe.dispose();
    const before = tf.memory().numTensors;
    tf.tidy(() => new HashRouter({ numExperts: 4, hashOf: 'featureBucket', inputDim: 3, seed: 1 }).dispose()); // construct and dispose: nothing left
    expect(tf.memory().numTensors).toBe(before);
    let kept: HashRouter | undefined;
    tf.tidy(() => {
      kept = new HashRouter({ numExperts: 4, hashOf: 'featureBucket', inputDim: 3, seed: 1 });
    });
    expect(tf.memory().numTensors).toBe(before + 2); // made inside a tidy, the table and projection outlive it
    const probe = tf.ones([2, 3]) as tf.Tensor2D;
    expect(expertsOf(kept!, probe)).toHaveLength(2); // and it still routes
    probe.dispose();
    kept!.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
