// The device path on a GPU backend: runs in Chromium on tfjs's webgl backend (`npm run test:browser`,
// vitest.browser.config.ts), not under node. The other core test files run there unchanged as well;
// this file adds what only a GPU backend shows: parity with the cpu backend at webgl's float32
// precision, the layout 'auto' picks, and how often a training step reads back to the host.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MixtureOfExperts } from './mixture-of-experts.js';
import { countHostReads, expectNoLeakedTensors, expectTensorsClose, LinearExpertBank, LinearTopKRouter } from './testing/index.js';

/**
 * Host reads (the engine's `readSync` / `read`) one padded training step may make on webgl at a fixed
 * capacity factor: none (routing engine v2). The first engine made 7, all synchronous:
 * `checkAllFinite` on `x` and on the router logits, `readExpertIndex` in `planRouting` and again in
 * the router's load-balancing loss, and `routingMetrics` reading `load`, `needed` and `probs`. Reads
 * a webgl kernel makes itself count too (`TopK` hands off to the cpu below its size thresholds unless
 * `keepTopKOnDevice()` raised them, as vitest.browser.setup.ts does through the same call
 * `selectBackend` makes).
 */
const MAX_HOST_READS_PER_STEP = 0;

// T = 64 tokens of width D = 16, E = 4 linear experts D → 8, top-2.
const T = 64;
const D = 16;
const E = 4;

function makeMoE(capacityFactorTrain: number) {
  return new MixtureOfExperts({
    router: new LinearTopKRouter({ inputDim: D, numExperts: E, k: 2, seed: 31 }),
    experts: new LinearExpertBank({ numExperts: E, inputDim: D, outputDim: 8, seed: 32 }),
    capacity: { train: capacityFactorTrain },
    layout: 'padded',
  });
}

const lossOf = (r: { output: tf.Tensor; auxLosses: { total: tf.Tensor } }) => tf.add(tf.mean(tf.square(r.output)), r.auxLosses.total) as tf.Scalar;

/** Runs `fn` on the cpu backend and comes back to webgl. */
async function onCpu<R>(fn: () => R): Promise<R> {
  await tf.setBackend('cpu');
  try {
    return fn();
  } finally {
    await tf.setBackend('webgl');
  }
}

describe('the webgl backend', () => {
  it('is the backend these tests run on: WebGL 2 in Chromium', () => {
    expect(tf.getBackend()).toBe('webgl');
    expect(tf.env().getNumber('WEBGL_VERSION')).toBe(2);
    const gl = (tf.backend() as unknown as { gpgpu: { gl: WebGL2RenderingContext } }).gpgpu.gl;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    console.log(`webgl renderer: ${info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER)}`);
    expect(gl).toBeInstanceOf(WebGL2RenderingContext);
  });

  it("'auto' picks the padded layout here: reading group sizes would stall the device", () => {
    const moe = new MixtureOfExperts({
      router: new LinearTopKRouter({ inputDim: D, numExperts: E }),
      experts: new LinearExpertBank({ numExperts: E, inputDim: D }),
    });
    expect(moe.resolveLayout()).toBe('padded');
    moe.dispose();
  });
});

describe('MixtureOfExperts on webgl', () => {
  it('gives the cpu backend’s output, loss, metrics and gradients (padded, top-2, with drops)', async () => {
    // capacity ceil(0.75 · 64 · 2 / 4) = 24 slots per expert for 128 (token, choice) pairs: 32+ dropped
    const step = () => {
      const moe = makeMoE(0.75);
      const x = tf.randomNormal([T, D], 0, 1, 'float32', 33); // seeded on the host: the same on both backends
      const r = moe.apply(x, { training: true });
      const metrics = r.metrics.toJSON(); // read before the next call releases them
      const { value, grads } = tf.variableGrads(() => lossOf(moe.apply(x, { training: true })));
      const out = { output: r.output, loss: value, grads: moe.trainableVariables.map((v) => grads[v.name]!), metrics };
      tf.dispose([x, ...Object.values(r.auxLosses)]);
      moe.dispose();
      return out;
    };
    const cpu = await onCpu(() => {
      const s = step();
      const values = { output: s.output.arraySync() as number[][], loss: s.loss.dataSync()[0]!, grads: s.grads.map((g) => g.arraySync() as number[][]), metrics: s.metrics };
      tf.dispose([s.output, s.loss, ...s.grads]);
      return values;
    });
    const gl = step();
    expect(gl.metrics.capacity).toBe(24);
    expect(gl.metrics.load).toEqual(cpu.metrics.load);
    expect(gl.metrics.droppedCount).toBe(cpu.metrics.droppedCount);
    expect(gl.metrics.droppedCount).toBeGreaterThanOrEqual(32);
    // measured on SwiftShader: within 1.5e-7 of the cpu backend (values ~1); 1e-4 leaves room for
    // hardware GPUs, whose exp and matMul accumulate float32 less exactly
    const tolerance = { atol: 1e-4, rtol: 1e-4 };
    expectTensorsClose(gl.output, cpu.output, tolerance);
    expectTensorsClose(gl.loss, cpu.loss, tolerance);
    gl.grads.forEach((g, i) => expectTensorsClose(g, cpu.grads[i]!, tolerance));
    tf.dispose([gl.output, gl.loss, ...gl.grads]);
  });
});

describe('host reads per training step on webgl', () => {
  it('counts one engine read per dataSync and per data(), and none in a dense FFN step', async () => {
    const x = tf.randomNormal([T, D], 0, 1, 'float32', 34);
    const w1 = tf.variable(tf.randomNormal([D, 32], 0, 0.1, 'float32', 35));
    const w2 = tf.variable(tf.randomNormal([32, D], 0, 0.1, 'float32', 36));
    const optimizer = tf.train.sgd(0.01);
    const denseStep = () => optimizer.minimize(() => tf.mean(tf.square(tf.matMul(tf.relu(tf.matMul(x, w1)), w2))) as tf.Scalar, false, [w1, w2]);
    denseStep(); // prime the optimizer and the shaders
    expect(countHostReads(denseStep)).toMatchObject({ sync: 0, async: 0 });
    expect(countHostReads(() => x.dataSync())).toMatchObject({ sync: 1, async: 0 });
    const { result: pending, ...reads } = countHostReads(() => x.data());
    expect(reads).toEqual({ sync: 0, async: 1, backendSync: 0 });
    expect((await pending).length).toBe(T * D);
    tf.dispose([x, w1, w2]);
    optimizer.dispose();
  });

  it(`a padded MoE training step (forward, backward, SGD update) makes at most ${MAX_HOST_READS_PER_STEP} host reads (and one when the metrics are read)`, async () => {
    const moe = makeMoE(1.25); // capacity ceil(1.25 · 64 · 2 / 4) = 40
    const x = tf.randomNormal([T, D], 0, 1, 'float32', 37);
    const optimizer = tf.train.sgd(0.01);
    const trainStep = () => optimizer.minimize(() => lossOf(moe.apply(x, { training: true })), false, moe.trainableVariables);
    await expectNoLeakedTensors(trainStep); // also primes the optimizer and the shaders
    const perStep = [0, 1, 2].map(() => countHostReads(trainStep));
    console.log(`webgl host reads per padded MoE training step (T=${T}, D=${D}, E=${E}, k=2, capacity factor 1.25): ` +
      perStep.map((r) => `${r.sync + r.async} (${r.sync} sync, ${r.async} async; ${r.backendSync} by kernels)`).join(', '));
    expect(moe.lastMetrics!.capacity).toBe(40);
    for (const r of perStep) expect(r.sync + r.async + r.backendSync).toBeLessThanOrEqual(MAX_HOST_READS_PER_STEP);
    tf.dispose(x);
    optimizer.dispose();
    moe.dispose();
  });
});
