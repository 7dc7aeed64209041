// The tiny random Mixtral of scripts/golden/mixtral_reference.py (HF's MixtralForCausalLM forward,
// transcribed in plain torch 1.13; the safetensors file written by hand in python), loaded through
// decodeSafetensors + mixtralFromCheckpoint: moekit's logits and routing must match PyTorch's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { mixtralFromCheckpoint } from './mixtral-checkpoint.js';
import { decodeSafetensors } from './safetensors.js';

const folder = join(import.meta.dirname, '../../../scripts/golden/tiny-mixtral');
const golden = JSON.parse(readFileSync(join(folder, 'logits.json'), 'utf8')) as { inputIds: number[][]; logits: number[][][]; routerLogits: number[][][] };
const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;

const top2 = (rows: number[][]) => rows.map((row) => [...row.keys()].sort((a, b) => row[b]! - row[a]!).slice(0, 2));

describe('MixtralCausalLM against PyTorch (scripts/golden/mixtral_reference.py)', () => {
  it('loads the HF checkpoint and gives the reference logits (max |Δ| ≤ 1e-4) and the same top-2 experts per token per layer', async () => {
    const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(join(folder, 'model.safetensors'))));
    const model = mixtralFromCheckpoint(config, tensors);
    tf.dispose([...tensors.values()]);
    const ids = tf.tensor2d(golden.inputIds, undefined, 'int32'); // [2, 9]
    let maxError = Infinity;
    await expectNoLeakedTensors(() => {
      const { logits, routerLogits } = model.forward(ids);
      const got = logits.arraySync();
      maxError = Math.max(...got.flatMap((row, b) => row.flatMap((v, s) => v.map((x, j) => Math.abs(x - golden.logits[b]![s]![j]!)))));
      expect(logits.shape).toEqual([2, 9, 61]);
      expect(maxError).toBeLessThanOrEqual(1e-4);
      routerLogits.forEach((layerLogits, layer) => {
        const reference = golden.routerLogits[layer]!;
        expect(top2(layerLogits.arraySync())).toEqual(top2(reference));
        expect(new Set(top2(reference).map((pair) => [...pair].sort().join())).size).toBeGreaterThan(2); // routing differs between tokens
      });
      tf.dispose([logits, ...routerLogits]);
    });
    console.log(`max |Δlogit| vs PyTorch: ${maxError.toExponential(2)}`); // 1.06e-5 on the cpu backend
    ids.dispose();
    model.dispose();
  });
});
