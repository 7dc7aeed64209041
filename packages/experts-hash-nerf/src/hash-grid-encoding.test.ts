import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors, expectTensorsClose } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { HashGridEncoding } from './hash-grid-encoding.js';
import { hashGridLevels } from './hash-grid-levels.js';
import { spatialHash } from './spatial-hash.js';

// A plain reference of Instant-NGP's encoding, written without the class's code: BigInt hashing
// (no wrap-around tricks), a triple loop over the cell's corners, one level at a time.
function referenceEncoding(points: number[][], table: Float32Array, F: number, levels: ReturnType<typeof hashGridLevels>, log2T: number): number[][] {
  const T = 2n ** BigInt(log2T);
  return points.map((p) => levels.flatMap(({ resolution: N, dense, offset }) => {
    const s = p.map((v) => Math.min(1, Math.max(0, v)) * N);
    const c0 = s.map((v) => Math.min(Math.floor(v), N - 1));
    const f = s.map((v, a) => v - c0[a]!);
    const out = new Array<number>(F).fill(0);
    for (let dz = 0; dz < 2; dz++) for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) {
      const [x, y, z] = [c0[0]! + dx, c0[1]! + dy, c0[2]! + dz];
      const row = dense
        ? x + (N + 1) * y + (N + 1) ** 2 * z
        : Number(((BigInt(x) * 1n) ^ (BigInt(y) * 2654435761n) ^ (BigInt(z) * 805459861n)) % 2n ** 32n % T);
      const w = (dx ? f[0]! : 1 - f[0]!) * (dy ? f[1]! : 1 - f[1]!) * (dz ? f[2]! : 1 - f[2]!);
      for (let j = 0; j < F; j++) out[j]! += w * table[(offset + row) * F + j]!;
    }
    return out;
  }));
}

describe('hashGridLevels', () => {
  it('grows resolutions geometrically (Müller et al. 2022, Eqs. 2-3) and indexes small levels 1:1', () => {
    const levels = hashGridLevels(5, 14, 2, 32); // b = exp((ln 32 − ln 2) / 4) = 2
    expect(levels.map((l) => l.resolution)).toEqual([2, 4, 8, 16, 32]);
    // (N+1)^3 = 27, 125, 729, 4913 ≤ 2^14 = 16384 are dense; 33^3 = 35937 is hashed into 16384 rows
    expect(levels.map((l) => l.dense)).toEqual([true, true, true, true, false]);
    expect(levels.map((l) => l.tableSize)).toEqual([27, 125, 729, 4913, 16384]);
    expect(levels.map((l) => l.offset)).toEqual([0, 27, 152, 881, 5794]); // running sums
    // b = (64 / 4)^(1/3) = 2.5198: 4, ⌊10.079⌋ = 10, ⌊25.398⌋ = 25, 64
    expect(hashGridLevels(4, 12, 4, 64).map((l) => l.resolution)).toEqual([4, 10, 25, 64]);
  });
});

describe('spatialHash', () => {
  it('is Instant-NGP Eq. 4 in exact uint32 arithmetic (python big-int values)', () => {
    // python: (1 ^ 2654435761 ^ 805459861) % 2**14 = 11813
    expect(spatialHash(1, 1, 1, 14)).toBe(11813);
    // python: ((16*1) ^ (32*2654435761) ^ (48*805459861)) % 2**32 = 3332332992; % 1024 = 448
    expect(spatialHash(16, 32, 48, 10)).toBe(448);
    // products far past int32 (3000 · 805459861 ≈ 2.4e12): python gives 323360 and 329061
    expect(spatialHash(1000, 2000, 3000, 19)).toBe(323360);
    expect(spatialHash(3, 5, 7, 19)).toBe(329061);
  });
});

describe('HashGridEncoding', () => {
  it('returns a grid vertex\'s entry exactly, on a dense and on a hashed level', () => {
    // L = 2, N = 4 (5^3 = 125 ≤ 1024: dense) and N = 64 (65^3 > 1024: hashed); table[r, j] = r + j / 10
    const enc = new HashGridEncoding({ numLevels: 2, log2TableSize: 10, featuresPerLevel: 2, baseResolution: 4, finestResolution: 64 });
    expect(enc.levels.map((l) => [l.resolution, l.dense, l.offset])).toEqual([[4, true, 0], [64, false, 125]]);
    const rows = enc.table.shape[0]!;
    tf.tidy(() => enc.table.assign(tf.add(tf.tile(tf.reshape(tf.range(0, rows), [rows, 1]), [1, 2]), tf.tensor2d([[0, 0.1]]))));
    const y = enc.apply(tf.tensor2d([[0.25, 0.5, 0.75]]));
    // level 0: vertex (1, 2, 3) → row 1 + 5·2 + 25·3 = 86; level 1: vertex (16, 32, 48) → 125 + h = 125 + 448 = 573
    expect(Array.from(y.dataSync())).toEqual([86, Math.fround(86.1), 573, Math.fround(573.1)]);
    y.dispose();
    enc.dispose();
  });

  it('maps every vertex of a dense level to its own row', () => {
    const enc = new HashGridEncoding({ numLevels: 1, log2TableSize: 8, baseResolution: 5, finestResolution: 5 }); // 6^3 = 216 ≤ 256
    const N = 5;
    const coords: number[] = [];
    for (let z = 0; z <= N; z++) for (let y = 0; y <= N; y++) for (let x = 0; x <= N; x++) coords.push(x / N, y / N, z / N);
    const { indices, weights } = enc.lookup(coords);
    const owned = new Set<number>();
    for (let i = 0; i < weights.length; i++) if (weights[i] === 1) owned.add(indices[i]!);
    expect(owned.size).toBe(216);
    expect(Math.max(...owned)).toBe(215);
    enc.dispose();
  });

  it('matches the plain reference on fixed points (hashed and dense levels, non-power-of-two growth)', () => {
    const enc = new HashGridEncoding({ numLevels: 4, log2TableSize: 9, featuresPerLevel: 3, baseResolution: 3, finestResolution: 40, initScale: 1, seed: 7 });
    // b = (40 / 3)^(1/3) = 2.371: N = 3, ⌊7.11⌋ = 7, ⌊16.87⌋ = 16, 40; 8^3 = 512 ≤ 2^9 is the last dense level
    expect(enc.levels.map((l) => [l.resolution, l.dense])).toEqual([[3, true], [7, true], [16, false], [40, false]]);
    const points = [[0.1, 0.2, 0.3], [0.95, 0.01, 0.5], [1, 1, 1], [0, 0, 0], [0.333, 0.777, 0.5], [1.2, -0.3, 0.6]];
    const y = enc.apply(tf.tensor2d(points));
    expectTensorsClose(y, referenceEncoding(points, enc.table.dataSync() as Float32Array, 3, hashGridLevels(4, 9, 3, 40), 9), { atol: 1e-6, rtol: 1e-6 });
    y.dispose();
    enc.dispose();
  });

  it('initialises U(−1e-4, 1e-4) and sends gradients to the corner entries, weighted trilinearly', () => {
    const enc = new HashGridEncoding({ numLevels: 1, log2TableSize: 6, featuresPerLevel: 1, baseResolution: 2, finestResolution: 2, seed: 1 });
    const init = enc.table.dataSync();
    expect(Math.max(...Array.from(init, Math.abs))).toBeLessThanOrEqual(1e-4);
    const x = tf.tensor2d([[0.25, 0.5, 0.5]]); // s = (0.5, 1, 1): cell (0, 1, 1), f = (0.5, 0, 0)
    const { grads } = tf.variableGrads(() => tf.sum(enc.apply(x)) as tf.Scalar, [enc.table]);
    const g = Array.from(grads[enc.table.name]!.dataSync());
    // the weight-1/2 corners (0,1,1) and (1,1,1): rows 0 + 3·1 + 9·1 = 12 and 13
    expect(g.map((v, i) => (v !== 0 ? [i, v] : null)).filter((e) => e !== null)).toEqual([[12, 0.5], [13, 0.5]]);
    tf.dispose([x, grads[enc.table.name]!]);
    enc.dispose();
  });

  it('interpolates on the host and on the device alike, values and gradients', () => {
    const enc = new HashGridEncoding({ numLevels: 3, log2TableSize: 9, featuresPerLevel: 2, baseResolution: 2, finestResolution: 30, initScale: 1, seed: 4 });
    const x = tf.randomUniform([64, 3], -0.1, 1.1, 'float32', 5);
    const dy = tf.randomNormal([64, 6], 0, 1, 'float32', 6);
    const run = (mode: 'host' | 'device') => tf.variableGrads(() => tf.sum(tf.mul(enc.apply(x, mode), dy)) as tf.Scalar, [enc.table]);
    const host = run('host');
    const device = run('device');
    expectTensorsClose(host.value, device.value, { atol: 1e-4, rtol: 1e-5 });
    expectTensorsClose(host.grads[enc.table.name]!, device.grads[enc.table.name]!, { atol: 1e-5 });
    tf.dispose([x, dy, host.value, device.value, ...Object.values(host.grads), ...Object.values(device.grads)]);
    enc.dispose();
  });

  it('names bad input: points of width ≠ 3, log2TableSize > 24, baseResolution > finestResolution, unknown options', () => {
    const enc = new HashGridEncoding({ numLevels: 2, log2TableSize: 8 });
    const bad = tf.zeros([4, 2]);
    expect(() => enc.apply(bad)).toThrow("HashGridEncoding.apply: argument 'points' expected width 3 ([T, 3] points), got shape [4, 2]");
    expect(() => new HashGridEncoding({ log2TableSize: 25 })).toThrow("HashGridEncoding: argument 'log2TableSize' expected an integer in [1, 24], got 25");
    expect(() => new HashGridEncoding({ baseResolution: 64, finestResolution: 16 })).toThrow("HashGridEncoding: argument 'baseResolution' expected <= finestResolution (16), got 64");
    expect(() => new HashGridEncoding({ levels: 4 } as never)).toThrow("argument 'levels' expected one of the known options");
    bad.dispose();
    enc.dispose();
  });

  it('leaks no tensors, forward or backward', async () => {
    const enc = new HashGridEncoding({ numLevels: 3, log2TableSize: 10, baseResolution: 2, finestResolution: 32, seed: 2 });
    const x = tf.randomUniform([50, 3], 0, 1, 'float32', 3);
    for (const mode of ['host', 'device'] as const) {
      await expectNoLeakedTensors(() => {
        const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(enc.apply(x, mode))) as tf.Scalar, [enc.table]);
        tf.dispose([value, ...Object.values(grads)]);
      });
    }
    x.dispose();
    enc.dispose();
  });
});
