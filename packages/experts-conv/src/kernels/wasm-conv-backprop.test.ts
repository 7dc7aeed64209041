import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { wasmConv2DBackpropFilterConfig } from './wasm-conv2d-backprop-filter.js';
import { wasmDepthwiseConv2dNativeBackpropFilterConfig } from './wasm-depthwise-conv2d-backprop-filter.js';
import { wasmDepthwiseConv2dNativeBackpropInputConfig } from './wasm-depthwise-conv2d-backprop-input.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

const kernels = [wasmConv2DBackpropFilterConfig, wasmDepthwiseConv2dNativeBackpropFilterConfig, wasmDepthwiseConv2dNativeBackpropInputConfig];

/** Deterministic uniform values in [-1, 1) (a 32-bit LCG), so failures reproduce. */
function randomValues(size: number, seed: number): Float32Array {
  const values = new Float32Array(size);
  let state = seed >>> 0;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = state / 2 ** 31 - 1;
  }
  return values;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

interface Result {
  shape: number[];
  values: Float32Array;
}

/** Runs `fn` on `backendName` (tensors built inside it live there) and reads its results back. */
async function on(backendName: 'cpu' | 'wasm', fn: () => tf.Tensor[]): Promise<Result[]> {
  expect(await tf.setBackend(backendName)).toBe(true); // a failed switch would compare cpu with cpu
  const outs = tf.tidy(fn);
  const results = await Promise.all(outs.map(async (t) => ({ shape: t.shape, values: (await t.data()) as Float32Array })));
  tf.dispose(outs);
  return results;
}

/** max |actual − expected| / max |expected|: the norm-wise relative error of `actual`. */
function relativeError(actual: Result, expected: Result): number {
  expect(actual.shape).toEqual(expected.shape);
  let scale = 0;
  let error = 0;
  for (let i = 0; i < expected.values.length; i++) {
    scale = Math.max(scale, Math.abs(expected.values[i]!));
    error = Math.max(error, Math.abs(actual.values[i]! - expected.values[i]!));
  }
  expect(scale).toBeGreaterThan(0); // a gradient of all zeros would prove nothing
  return error / scale;
}

/** The forward output shape of a conv, for the random weights `w` of the loss `Σ w · conv(x, f)`. */
function outShape(xShape: Shape4, filterShape: Shape4, strides: number | [number, number], pad: Pad, depthwise: boolean, dilations = 1): Shape4 {
  return tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, dilations, pad, undefined, depthwise).outShape;
}

beforeAll(async () => {
  for (const config of kernels) {
    expect(tf.getKernel(config.kernelName, 'wasm')).toBeUndefined(); // stock wasm has none: nothing is overridden
    tf.registerKernel(config);
  }
  expect(await tf.setBackend('wasm')).toBe(true);
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
});

afterAll(async () => {
  for (const config of kernels) tf.unregisterKernel(config.kernelName, 'wasm');
  await tf.setBackend('cpu');
});

describe('wasm Conv2DBackpropFilter', () => {
  it('matches hand-computed values', async () => {
    // x = [[1, 2], [3, 4]] (1 channel), a 2×2 'valid' conv has one output; with dy = 2 the filter
    // gradient is 2 · x = [[2, 4], [6, 8]]
    const [dw] = await on('wasm', () => [
      tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), dy: tf.tensor4d([2], [1, 1, 1, 1]) },
        { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [2, 2, 1, 1] }) as tf.Tensor,
    ]);
    expect(dw!.shape).toEqual([2, 2, 1, 1]);
    expect(Array.from(dw!.values)).toEqual([2, 4, 6, 8]);
  });

  // channel counts cover every register-tile edge: inC % 4 and outC % 4 both zero, one, or neither
  const cases: { x: Shape4; filter: Shape4; strides: number | [number, number]; pad: Pad }[] = [
    { x: [2, 5, 5, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
    { x: [3, 7, 6, 8], filter: [3, 3, 8, 6], strides: 2, pad: 'same' },
    { x: [2, 6, 7, 5], filter: [2, 3, 5, 8], strides: 2, pad: 'valid' },
    { x: [2, 8, 8, 6], filter: [5, 5, 6, 5], strides: [1, 2], pad: 'same' },
    { x: [1, 4, 4, 4], filter: [1, 1, 4, 4], strides: 1, pad: 'valid' },
    { x: [2, 6, 5, 4], filter: [3, 2, 4, 7], strides: 1, pad: [[0, 0], [2, 1], [0, 1], [0, 0]] },
  ];

  it.each(cases)('gives the cpu gradient of conv2d w.r.t. the filter: x $x, filter $filter, strides $strides, pad $pad', async ({ x, filter, strides, pad }) => {
    const xValues = randomValues(sizeOf(x), 1);
    const fValues = randomValues(sizeOf(filter), 2);
    const wValues = randomValues(sizeOf(outShape(x, filter, strides, pad, false)), 3);
    const run = () => {
      const xt = tf.tensor4d(xValues, x);
      const w = tf.tensor(wValues, outShape(x, filter, strides, pad, false));
      const loss = (f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xt, f as tf.Tensor4D, strides, pad), w));
      return [tf.grad(loss)(tf.tensor4d(fValues, filter))];
    };
    const [expected] = await on('cpu', run);
    const [actual] = await on('wasm', run);
    expect(relativeError(actual!, expected!)).toBeLessThan(1e-4);
  });

  it('matches the cpu kernel with numeric padding and each dimRoundingMode', async () => {
    for (const dimRoundingMode of ['floor', 'round', 'ceil'] as const) {
      const x: Shape4 = [2, 7, 6, 5];
      const filterShape: Shape4 = [3, 3, 5, 6];
      const info = tf.backend_util.computeConv2DInfo(x, filterShape, 2, 1, 1, dimRoundingMode);
      const xValues = randomValues(sizeOf(x), 4);
      const dyValues = randomValues(sizeOf(info.outShape), 5);
      const run = () => [tf.engine().runKernel('Conv2DBackpropFilter',
        { x: tf.tensor4d(xValues, x), dy: tf.tensor4d(dyValues, info.outShape) },
        { strides: 2, pad: 1, dataFormat: 'NHWC', dimRoundingMode, filterShape }) as tf.Tensor];
      const [expected] = await on('cpu', run);
      const [actual] = await on('wasm', run);
      expect(relativeError(actual!, expected!)).toBeLessThan(1e-4);
    }
  });

  it('rejects NCHW with the argument named', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 1, 3, 3]);
    const dy = tf.zeros([1, 1, 3, 3]);
    expect(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [1, 1, 1, 1] }))
      .toThrow("Conv2DBackpropFilter (wasm): argument 'dataFormat' expected 'NHWC', got 'NCHW'");
    tf.dispose([x, dy]);
  });
});

describe('wasm DepthwiseConv2dNativeBackpropFilter / BackpropInput', () => {
  it('match hand-computed values', async () => {
    // x = [[1, 2], [3, 4]], filter = [[5, 6], [7, 8]], one 'valid' output, dy = 2:
    // dW = 2 · x = [[2, 4], [6, 8]], dx = 2 · filter = [[10, 12], [14, 16]]
    const [dw, dx] = await on('wasm', () => {
      const dy = tf.tensor4d([2], [1, 1, 1, 1]);
      const attrs = { strides: 1, pad: 'valid', dilations: 1 };
      return [
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), dy }, { ...attrs, filterShape: [2, 2, 1, 1] }) as tf.Tensor,
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: tf.tensor4d([5, 6, 7, 8], [2, 2, 1, 1]) }, { ...attrs, inputShape: [1, 2, 2, 1] }) as tf.Tensor,
      ];
    });
    expect(Array.from(dw!.values)).toEqual([2, 4, 6, 8]);
    expect(Array.from(dx!.values)).toEqual([10, 12, 14, 16]);
  });

  // filter [fh, fw, inC, M]: M = 1 takes the four-channel path (inC % 4 zero or not), M > 1 the
  // multiplier path (M % 4 zero or not)
  const cases: { x: Shape4; filter: Shape4; strides: number | [number, number]; pad: Pad }[] = [
    { x: [2, 6, 6, 4], filter: [3, 3, 4, 1], strides: 1, pad: 'same' },
    { x: [3, 7, 5, 6], filter: [3, 3, 6, 1], strides: 2, pad: 'same' },
    { x: [2, 6, 7, 3], filter: [3, 3, 3, 2], strides: 2, pad: 'valid' },
    { x: [2, 5, 5, 2], filter: [2, 2, 2, 5], strides: 1, pad: 'valid' },
    { x: [1, 8, 8, 5], filter: [5, 5, 5, 4], strides: 1, pad: 'same' },
    { x: [2, 6, 5, 3], filter: [3, 2, 3, 1], strides: [2, 1], pad: [[0, 0], [1, 2], [1, 0], [0, 0]] },
  ];

  it.each(cases)('give the cpu gradients of depthwiseConv2d: x $x, filter $filter, strides $strides, pad $pad', async ({ x, filter, strides, pad }) => {
    const xValues = randomValues(sizeOf(x), 6);
    const fValues = randomValues(sizeOf(filter), 7);
    const wValues = randomValues(sizeOf(outShape(x, filter, strides, pad, true)), 8);
    const run = () => {
      const w = tf.tensor(wValues, outShape(x, filter, strides, pad, true));
      const loss = (xt: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(xt as tf.Tensor4D, f as tf.Tensor4D, strides, pad), w));
      return tf.grads(loss)([tf.tensor4d(xValues, x), tf.tensor4d(fValues, filter)]);
    };
    const [expectedDx, expectedDw] = await on('cpu', run);
    const [actualDx, actualDw] = await on('wasm', run);
    expect(relativeError(actualDx!, expectedDx!)).toBeLessThan(1e-4);
    expect(relativeError(actualDw!, expectedDw!)).toBeLessThan(1e-4);
  });

  it('match the cpu kernels with numeric padding and each dimRoundingMode', async () => {
    for (const dimRoundingMode of ['floor', 'round', 'ceil'] as const) {
      const x: Shape4 = [2, 7, 6, 3];
      const filterShape: Shape4 = [3, 3, 3, 2];
      const info = tf.backend_util.computeConv2DInfo(x, filterShape, 2, 1, 1, dimRoundingMode, true);
      const xValues = randomValues(sizeOf(x), 9);
      const fValues = randomValues(sizeOf(filterShape), 10);
      const dyValues = randomValues(sizeOf(info.outShape), 11);
      const attrs = { strides: 2, pad: 1, dilations: 1, dimRoundingMode };
      const run = () => {
        const dy = tf.tensor4d(dyValues, info.outShape);
        return [
          tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor4d(xValues, x), dy }, { ...attrs, filterShape }) as tf.Tensor,
          tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: tf.tensor4d(fValues, filterShape) }, { ...attrs, inputShape: x }) as tf.Tensor,
        ];
      };
      const [expectedDw, expectedDx] = await on('cpu', run);
      const [actualDw, actualDx] = await on('wasm', run);
      expect(relativeError(actualDw!, expectedDw!)).toBeLessThan(1e-4);
      expect(relativeError(actualDx!, expectedDx!)).toBeLessThan(1e-4);
    }
  });

  it('refuse dilation 2 in tf.grad, as tfjs does on every backend', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones([1, 5, 5, 1]) as tf.Tensor4D;
    expect(() => tf.grad((f) => tf.sum(tf.depthwiseConv2d(x, f as tf.Tensor4D, 1, 'same', 'NHWC', 2)))(tf.ones([3, 3, 1, 1])))
      .toThrow('dilation rates greater than 1 are not yet supported');
    x.dispose();
  });

  it.each([
    { x: [2, 9, 8, 4] as Shape4, filter: [3, 3, 4, 1] as Shape4, pad: 'same' as const },
    { x: [1, 9, 9, 3] as Shape4, filter: [3, 2, 3, 2] as Shape4, pad: 'valid' as const },
  ])('with dilation 2 equal the undilated gradients of the zero-inserted filter: x $x, filter $filter, pad $pad', async ({ x, filter, pad }) => {
    // a dilation-2 conv with filter f is the dilation-1 conv with f spread onto every other tap of a
    // [2·fh − 1, 2·fw − 1] filter (zeros between), so the cpu kernels at dilation 1 give the reference:
    // dW is the big filter's gradient at the even taps, dx is unchanged
    const [fh, fw, inC, chMul] = filter;
    const big: Shape4 = [2 * fh - 1, 2 * fw - 1, inC, chMul];
    const dyShape = outShape(x, filter, 1, pad, true, 2);
    const xValues = randomValues(sizeOf(x), 12);
    const fValues = randomValues(sizeOf(filter), 13);
    const dyValues = randomValues(sizeOf(dyShape), 14);
    const bigValues = new Float32Array(sizeOf(big)); // [2fh − 1, 2fw − 1, inC, M]
    const tap = inC * chMul;
    for (let r = 0; r < fh; r++) {
      for (let c = 0; c < fw; c++) bigValues.set(fValues.subarray((r * fw + c) * tap, (r * fw + c + 1) * tap), (2 * r * big[1] + 2 * c) * tap);
    }

    const [bigDw, expectedDx] = await on('cpu', () => {
      const dy = tf.tensor4d(dyValues, dyShape);
      const attrs = { strides: 1, pad, dilations: 1 };
      return [
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor4d(xValues, x), dy }, { ...attrs, filterShape: big }) as tf.Tensor,
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: tf.tensor4d(bigValues, big) }, { ...attrs, inputShape: x }) as tf.Tensor,
      ];
    });
    const expectedDw: Result = { shape: filter, values: new Float32Array(sizeOf(filter)) };
    for (let r = 0; r < fh; r++) {
      for (let c = 0; c < fw; c++) {
        const from = (2 * r * big[1] + 2 * c) * tap;
        expectedDw.values.set(bigDw!.values.subarray(from, from + tap), (r * fw + c) * tap);
      }
    }
    const [actualDw, actualDx] = await on('wasm', () => {
      const dy = tf.tensor4d(dyValues, dyShape);
      const attrs = { strides: 1, pad, dilations: 2 };
      return [
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor4d(xValues, x), dy }, { ...attrs, filterShape: filter }) as tf.Tensor,
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: tf.tensor4d(fValues, filter) }, { ...attrs, inputShape: x }) as tf.Tensor,
      ];
    });
    expect(relativeError(actualDw!, expectedDw)).toBeLessThan(1e-4);
    expect(relativeError(actualDx!, expectedDx!)).toBeLessThan(1e-4);
  });
});

describe('wasm conv backprop kernels', () => {
  it('leak no tensors and no wasm heap buffers', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(randomValues(2 * 6 * 6 * 4, 15), [2, 6, 6, 4]);
    const f = tf.tensor4d(randomValues(3 * 3 * 4 * 5, 16), [3, 3, 4, 5]);
    const df = tf.tensor4d(randomValues(3 * 3 * 4 * 2, 17), [3, 3, 4, 2]);
    const step = () => {
      const convGrad = tf.grad((g) => tf.sum(tf.conv2d(x, g as tf.Tensor4D, 2, 'same')))(f);
      const depthwiseGrads = tf.grads((a, g) => tf.sum(tf.depthwiseConv2d(a as tf.Tensor4D, g as tf.Tensor4D, 1, 'valid')))([x, df]);
      tf.dispose([convGrad, ...depthwiseGrads]);
    };
    const backend = tf.backend();
    step(); // prime
    const dataIds = backend.numDataIds();
    await expectNoLeakedTensors(step);
    expect(backend.numDataIds()).toBe(dataIds);
    tf.dispose([x, f, df]);
  });
});
