import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, expectTensorsClose } from '@moekit/core/testing';
import { combine } from '@moekit/core';
import { dispatch } from '@moekit/core';
import { planRouting } from '@moekit/core';
import { disposeRoutingPlan } from '@moekit/core';
import { registerMoekitKernels, unregisterMoekitKernels } from './register-moekit-kernels.js';
import { swappedIsCheaper } from './wasm-batch-mat-mul.js';

/** Runs `fn` on a backend and returns its result as nested arrays (tensors built inside `fn`). */
async function on<T extends tf.Tensor | tf.Tensor[]>(backend: string, fn: () => T): Promise<number[][]> {
  await tf.setBackend(backend);
  const result = tf.tidy(fn);
  const list = Array.isArray(result) ? result : [result];
  const values = list.map((t) => Array.from(t.dataSync(), Number));
  tf.dispose(list);
  return values;
}

function random(shape: number[], seed: number): number[] {
  return Array.from(tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync()));
}

async function expectSameOnCpuAndWasm(fn: () => tf.Tensor | tf.Tensor[], atol = 1e-4): Promise<void> {
  const cpu = await on('cpu', fn);
  const wasm = await on('wasm', fn);
  expect(wasm.length).toBe(cpu.length);
  cpu.forEach((c, i) => expectTensorsClose(tf.tensor(wasm[i]!), tf.tensor(c), { atol, rtol: 1e-4 }));
}

beforeAll(async () => {
  await tf.setBackend('wasm'); // initialise, so the stock wasm kernels are registered and set up
  expect(registerMoekitKernels()).toEqual(['UnsortedSegmentSum/cpu', 'Multiply/cpu', 'Sum/cpu', 'GatherV2/cpu', 'BatchMatMul/wasm', 'UnsortedSegmentSum/wasm', 'GatherV2/wasm', 'OneHot/wasm', 'Unpack/wasm', 'SplitV/wasm', 'Slice/wasm', 'Identity/wasm', 'Transpose/wasm']);
});
afterAll(async () => {
  unregisterMoekitKernels();
  await tf.setBackend('cpu');
});

describe('wasm BatchMatMul (fast path for every transpose and batch)', () => {
  const cases: [string, number[], number[], boolean, boolean][] = [
    ['plain', [1, 5, 7], [1, 7, 3], false, false],
    ['transposeA', [1, 7, 5], [1, 7, 3], true, false],
    ['transposeB', [1, 5, 7], [1, 3, 7], false, true],
    ['both', [1, 7, 5], [1, 3, 7], true, true],
    ['batched', [4, 5, 7], [4, 7, 3], false, false],
    ['batched, transposed (a matMul gradient)', [4, 7, 5], [4, 3, 7], true, true],
    ['batch of a against a shared b', [4, 5, 7], [1, 7, 3], false, false],
    ['shared a against a batch of b', [1, 5, 7], [4, 3, 7], false, true],
    // few rows against a large b: computed swapped, (b·aᵀ)ᵀ, transposing a and the product, not b
    ['transposeB, few rows (swapped)', [1, 2, 16], [1, 32, 16], false, true],
    ['both transposed, few rows (swapped)', [1, 16, 2], [1, 32, 16], true, true],
    ['batched transposeB, few rows (swapped)', [3, 2, 16], [3, 32, 16], false, true],
    ['a batch of a against a shared transposed b (swapped)', [2, 2, 16], [1, 64, 16], false, true],
  ];
  for (const [name, aShape, bShape, ta, tb] of cases) {
    it(`matches cpu: ${name}`, async () => {
      const a = random(aShape, 1);
      const b = random(bShape, 2);
      await expectSameOnCpuAndWasm(() => tf.matMul(tf.tensor3d(a, aShape as [number, number, number]), tf.tensor3d(b, bShape as [number, number, number]), ta, tb));
    });
  }
  it('matches cpu through the gradient of a batched matMul', async () => {
    const a = random([3, 6, 4], 3);
    const b = random([3, 4, 5], 4);
    await expectSameOnCpuAndWasm(() =>
      tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D))))([tf.tensor3d(a, [3, 6, 4]), tf.tensor3d(b, [3, 4, 5])]),
    );
  });
});

describe('UnsortedSegmentSum (cpu replacement, wasm addition)', () => {
  it('sums rows into segments, skipping ids out of range', async () => {
    const x = random([6, 4], 5);
    const ids = [2, 0, 2, -1, 5, 1]; // -1 and 5 (≥ 3 segments) are skipped
    const expected = [0, 1, 2].map((s) => [0, 1, 2, 3].map((j) => ids.reduce((acc, id, r) => acc + (id === s ? x[r * 4 + j]! : 0), 0)));
    for (const backend of ['cpu', 'wasm']) {
      const [got] = await on(backend, () => tf.unsortedSegmentSum(tf.tensor2d(x, [6, 4]), tf.tensor1d(ids, 'int32'), 3));
      expectTensorsClose(tf.tensor(got!), tf.tensor(expected.flat()), { atol: 1e-6 });
    }
  });
  it('is gather’s gradient on wasm, where the stock backend has none', async () => {
    const table = random([10, 3], 6);
    await expectSameOnCpuAndWasm(() => tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, tf.tensor1d([3, 3, 9, 0], 'int32')))))(tf.tensor2d(table, [10, 3])));
  });
});

describe('wasm GatherV2', () => {
  it('gathers rows, inner axes and with batchDims = 1 as the cpu backend does', async () => {
    const x = random([3, 4, 5], 7);
    const rows = [2, 0, 2, 1];
    const perBatch = [[3, 0], [1, 1], [0, 2]];
    await expectSameOnCpuAndWasm(() => [
      tf.gather(tf.tensor3d(x, [3, 4, 5]), tf.tensor1d(rows, 'int32')),
      tf.gather(tf.tensor3d(x, [3, 4, 5]), tf.tensor1d([4, 0], 'int32'), 2),
      tf.gather(tf.tensor3d(x, [3, 4, 5]), tf.tensor2d(perBatch, [3, 2], 'int32'), 1, 1),
    ], 0);
  });
  it('rejects an index out of range instead of reading past the table', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([3, 2]);
    const idx = tf.tensor1d([0, 3], 'int32');
    expect(() => tf.gather(x, idx)).toThrow('GatherV2: the index value 3 is not in [0, 2]');
    tf.dispose([x, idx]);
  });
});

describe('wasm OneHot', () => {
  it('writes float32 values in float32', async () => {
    await expectSameOnCpuAndWasm(() => [
      tf.oneHot(tf.tensor1d([0, 2, -1, 3], 'int32'), 3, 1, 0, 'float32'),
      tf.oneHot(tf.tensor2d([[1], [0]], [2, 1], 'int32'), 2, 5, -1, 'int32'),
    ], 0);
  });
});

describe('wasm Slice', () => {
  it('copies contiguous slices (row ranges, one expert’s block) and passes the others to the stock kernel', async () => {
    const x = random([4, 3, 5], 21);
    await expectSameOnCpuAndWasm(() => [
      tf.slice(tf.tensor3d(x, [4, 3, 5]), [1, 0, 0], [2, 3, 5]), // rows 1..2: contiguous
      tf.slice(tf.tensor3d(x, [4, 3, 5]), [2, 1, 0], [1, 2, 5]), // inside one block: contiguous
      tf.slice(tf.tensor3d(x, [4, 3, 5]), [0, 1, 2], [4, 2, 3]), // strided: the stock kernel
      tf.slice(tf.tensor2d(x.slice(0, 12), [6, 2]), [5, 0], [1, -1]),
    ], 0);
  });
});

describe('wasm Unpack and SplitV', () => {
  it('split along axis 0 by block copies, and along other axes as before', async () => {
    const x = random([5, 3, 2], 9);
    await expectSameOnCpuAndWasm(() => [
      ...tf.unstack(tf.tensor3d(x, [5, 3, 2])),
      ...tf.unstack(tf.tensor3d(x, [5, 3, 2]), 1),
      ...tf.split(tf.tensor3d(x, [5, 3, 2]), [2, 0, 3], 0),
      ...tf.split(tf.tensor3d(x, [5, 3, 2]), 3, 1),
    ], 0);
  });
});

describe('dispatch and combine on wasm', () => {
  it('give the cpu backend’s gradients to the input, the expert weights and the combine weights', async () => {
    for (const layout of ['grouped', 'padded'] as const) {
      await expectSameOnCpuAndWasm(() => {
        const probs = tf.softmax(tf.tensor2d(random([12, 3], 7), [12, 3]));
        const expertIndex = tf.topk(probs, 2).indices;
        const plan = planRouting({ probs, expertIndex }, 3, { capacityFactor: 1 }); // capacity 8 of 24 pairs: some dropped
        const w = tf.tensor2d(random([4, 4], 8), [4, 4]);
        const loss = (x: tf.Tensor, weights: tf.Tensor, combineWeight: tf.Tensor) => {
          const routed = dispatch(x, plan, layout);
          const out = tf.matMul(tf.reshape(routed, [-1, 4]), weights);
          const shaped = layout === 'padded' ? tf.reshape(out, [3, plan.capacity, 4]) : out;
          return tf.sum(tf.square(combine(shaped, { ...plan, combineWeight: combineWeight as tf.Tensor2D }, layout)));
        };
        const grads = tf.grads(loss)([tf.tensor2d(random([12, 4], 9), [12, 4]), w, plan.combineWeight]);
        disposeRoutingPlan(plan);
        return grads;
      });
    }
  });
});

describe('the stock wasm kernels still need replacing (canaries: if one fails, tfjs fixed the bug)', () => {
  it('stock OneHot writes int32 bits into float32, and stock GatherV2 mishandles batchDims = 1', async () => {
    unregisterMoekitKernels();
    try {
      const [oneHot] = await on('wasm', () => tf.oneHot(tf.tensor1d([1], 'int32'), 2, 1, 0, 'float32'));
      expect(oneHot![1]).not.toBe(1);
      const x = random([3, 4, 5], 8);
      const [cpu] = await on('cpu', () => tf.gather(tf.tensor3d(x, [3, 4, 5]), tf.tensor2d([[3, 0], [1, 1], [0, 2]], [3, 2], 'int32'), 1, 1));
      let stock: number[] | undefined;
      try {
        [stock] = await on('wasm', () => tf.gather(tf.tensor3d(x, [3, 4, 5]), tf.tensor2d([[3, 0], [1, 1], [0, 2]], [3, 2], 'int32'), 1, 1));
      } catch {
        stock = undefined; // "memory access out of bounds" is the other failure mode
      }
      expect(stock).not.toEqual(cpu);
    } finally {
      registerMoekitKernels();
    }
  });
});

describe('leaks', () => {
  it('no kernel leaks a tensor', async () => {
    await tf.setBackend('wasm');
    const a = tf.randomNormal([3, 6, 4]);
    const b = tf.randomNormal([3, 5, 4]);
    const ids = tf.tensor1d([0, 1, 0], 'int32');
    await expectNoLeakedTensors(() =>
      tf.tidy(() => {
        tf.matMul(a, b, false, true);
        tf.matMul(a, tf.slice(b, [0], [1]), false, true);
        tf.unsortedSegmentSum(tf.reshape(a, [3, 24]), ids, 2);
        tf.gather(a, ids);
        tf.oneHot(ids, 2);
        tf.unstack(a);
        tf.split(a, [1, 2], 0);
      }),
    );
    tf.dispose([a, b, ids]);
  });
});

describe('wasm Transpose (blocked, last two axes)', () => {
  for (const [name, shape, perm] of [
    ['a matrix wider than a tile', [37, 53], [1, 0]],
    ['a batch of matrices', [3, 17, 40], [0, 2, 1]],
    ['rank 4, leading axes in place', [2, 2, 5, 33], [0, 1, 3, 2]],
    ['another permutation (stock kernel)', [3, 4, 5], [2, 0, 1]],
  ] as [string, number[], number[]][]) {
    it(`matches cpu: ${name}`, async () => {
      const values = random(shape, 4);
      await expectSameOnCpuAndWasm(() => tf.transpose(tf.tensor(values, shape), perm), 0);
    });
  }
  it('matches cpu on int32', async () => {
    await expectSameOnCpuAndWasm(() => tf.transpose(tf.range(0, 6 * 35, 1, 'int32').reshape([6, 35])), 0);
  });
});

describe('wasm Identity (shares its input buffer)', () => {
  it('clones without a copy, and the clone outlives its source with the same values', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const buffers = backend.numDataIds();
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId); // one buffer, one more reference
    expect(backend.numDataIds()).toBe(buffers);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    await tf.setBackend('cpu');
  });

  it('keeps gradients and variable updates exact: saved tensors are shared, assign swaps buffers', async () => {
    {
      const step = () => tf.tidy(() => {
        let w = tf.tensor2d([[0.5, -1], [2, 0.25]]);
        const x = tf.tensor2d([[1, 2], [3, -1]]);
        const loss = (v: tf.Tensor) => tf.sum(tf.square(tf.relu(tf.matMul(x, v as tf.Tensor2D))));
        for (let i = 0; i < 3; i++) w = tf.sub(w, tf.mul(0.1, tf.grad(loss)(w))); // three SGD steps through saved (Identity) tensors
        return w;
      });
      await expectSameOnCpuAndWasm(step, 1e-5);
      await tf.setBackend('wasm');
      await expectNoLeakedTensors(() => tf.dispose(step()));
      await tf.setBackend('cpu');
    }
  });
});

describe('swappedIsCheaper (the BatchMatMul cost model)', () => {
  it('swaps an expert\'s few rows against its weight, not many rows, and not a product of equal sides', () => {
    // m = 70 rows, [512, 1024] weight, plain: direct packs 2.6·524 288 = 1 363 149; swapped moves
    // 524 288 + 35 840 + 71 680 + 2.6·35 840 = 724 992
    expect(swappedIsCheaper(false, false, 70, 512, 1024)).toBe(true);
    // dy·Wᵀ over 70 rows: direct 524 288 + 2.6·524 288; swapped 35 840 + 71 680 + 2.6·35 840
    expect(swappedIsCheaper(false, true, 70, 1024, 512)).toBe(true);
    // 640 rows (E = 8): swapped 524 288 + 327 680 + 655 360 + 2.6·327 680 = 2 359 296 > 1 363 149
    expect(swappedIsCheaper(false, false, 640, 512, 1024)).toBe(false);
    expect(swappedIsCheaper(false, false, 512, 512, 512)).toBe(false);
  });
});
