// moekit's MoE blocks loaded from HF-layout weights against PyTorch transcriptions of transformers'
// own blocks (scripts/golden/hf_moe_blocks.py, which names the files and commits it transcribes).
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { loadMixtralSparseMoe, mixtralSparseMoe } from './mixtral-sparse-moe.js';
import { loadSwitchSparseMlp, switchSparseMlp } from './switch-sparse-mlp.js';

interface Block {
  config: Record<string, number>;
  prefix: string;
  tensors: Record<string, { shape: number[]; values: number[] }>;
  x: number[][];
  y: number[][];
  kept?: boolean[];
}
const golden = JSON.parse(readFileSync(new URL('../../../scripts/golden/hf_moe_blocks.json', import.meta.url), 'utf8')) as { mixtral: Block; switch: Block };

const tensorsOf = (block: Block) => new Map(Object.entries(block.tensors).map(([name, { shape, values }]) => [name, tf.tensor(values, shape, 'float32')]));
const maxAbs = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i]![j]!))));

describe("HF's sparse MoE blocks (PyTorch golden outputs)", () => {
  it("Mixtral: moekit's output from the loaded weights equals MixtralSparseMoeBlock's (max abs error < 1e-5)", () => {
    const block = golden.mixtral;
    const moe = mixtralSparseMoe(block.config);
    const tensors = tensorsOf(block);
    loadMixtralSparseMoe(moe, tensors, block.prefix);
    const x = tf.tensor2d(block.x);
    const { output, auxLosses } = moe.apply(x, { training: false });
    const error = maxAbs(output.arraySync() as number[][], block.y);
    expect(error).toBeLessThan(1e-5); // measured 1.19e-7 (one float32 ulp near 1) on the cpu backend
    tf.dispose([x, output, ...Object.values(auxLosses), ...tensors.values()]);
    moe.dispose();
  });

  it("Switch: kept tokens equal SwitchTransformersSparseMLP's; a dropped one gives 0 where HF passes p · x on", () => {
    const block = golden.switch;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined); // moekit warns about the evaluation drop, once
    const moe = switchSparseMlp(block.config, { tokensPerGroup: block.x.length });
    const tensors = tensorsOf(block);
    loadSwitchSparseMlp(moe, tensors, block.prefix);
    const x = tf.tensor2d(block.x);
    const { output, auxLosses } = moe.apply(x, { training: false });
    const y = output.arraySync() as number[][];
    const kept = block.kept!;
    expect(kept.filter((k) => !k)).toHaveLength(1); // the golden row drops one token at expert_capacity 2
    const keptError = maxAbs(y.filter((_, t) => kept[t]), block.y.filter((_, t) => kept[t]));
    expect(keptError).toBeLessThan(1e-5); // measured 1.19e-7 on the cpu backend
    for (const [t, row] of y.entries()) if (!kept[t]) expect(row.every((v) => v === 0)).toBe(true);
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();
    tf.dispose([x, output, ...Object.values(auxLosses), ...tensors.values()]);
    moe.dispose();
  });
});
