/**
 * 14 · mixture of attention heads: a tiny JetMoE-style language model on Moby-Dick's characters —
 * token embedding, `JetMoEBlock`s (a `MixtureOfAttentionHeads` whose experts own their query and
 * output projections over shared keys and values, then a sparse SwiGLU MoE FFN, both routed top-2 with
 * JetMoE's load-balancing loss and z-loss; Zhang et al. 2022, Shen et al. 2024), a final RMSNorm and a
 * tied output projection. Prints the cross entropy before and after training and, on held-out text,
 * how many (token, expert) pairs each expert of the attention router and of the FFN router received.
 */
import * as tf from '@tensorflow/tfjs';
import { JetMoEBlock } from '@moekit/attention';
import { loadMobyDickText } from '@moekit/datasets';
import { RMSNorm } from '@moekit/transformer';

/** Runs the example; `quick` trains a one-block model for a few steps on a short slice. */
export async function run(options: { quick: boolean }): Promise<void> {
  const size = options.quick
    ? { chars: 4_000, hidden: 16, ffn: 24, blocks: 1, experts: 4, headDim: 4, steps: 3, batch: 4, window: 16 }
    : { chars: 200_000, hidden: 64, ffn: 96, blocks: 2, experts: 8, headDim: 16, steps: 300, batch: 16, window: 64 };
  const text = loadMobyDickText().slice(0, size.chars);
  const vocab = [...new Set(text)].sort();
  const index = new Map(vocab.map((c, i) => [c, i]));
  const ids = [...text].map((c) => index.get(c)!);
  const split = Math.floor(ids.length * 0.9); // the last 10 % is held out for the loads
  const V = vocab.length;
  const D = size.hidden;

  const embed = tf.tidy(() => tf.variable(tf.randomNormal([V, D], 0, 0.02, 'float32', 14))); // [V, D], tied to the output (tidy: the initial value is released)
  const blocks = Array.from({ length: size.blocks }, (_, i) => new JetMoEBlock({ hiddenSize: D, ffnHiddenSize: size.ffn, numExperts: size.experts, k: 2, headDim: size.headDim, seed: 140 + i }));
  const norm = new RMSNorm({ dim: D, eps: 1e-6 });
  const variables = [embed, ...blocks.flatMap((b) => b.trainableVariables), ...norm.trainableVariables];

  /** Cross entropy (nats/char), the blocks' aux losses and each block's loads, for `x` `[B, S + 1]` int32. */
  const forward = (x: tf.Tensor2D, training: boolean) => {
    const [B, S1] = x.shape;
    const S = S1 - 1;
    const inputs = tf.slice(x, [0, 0], [B, S]); // [B, S]
    const targets = tf.reshape(tf.slice(x, [0, 1], [B, S]), [B * S]); // [B·S]
    let h = tf.reshape(tf.gather(embed, tf.reshape(inputs, [B * S])), [B, S, D]) as tf.Tensor3D; // [B, S, D]
    let aux = tf.scalar(0);
    const loads: [tf.Tensor1D, tf.Tensor1D][] = [];
    for (const block of blocks) {
      const out = block.apply(h, { training });
      h = out.output;
      aux = tf.add(aux, out.auxLosses.total);
      loads.push([out.attentionLoad, out.mlpLoad]);
    }
    const logits = tf.matMul(tf.reshape(norm.apply(h), [B * S, D]), embed, false, true); // [B·S, V]
    const crossEntropy = tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(targets, V, 1, 0, 'float32')), 1))) as tf.Scalar;
    return { crossEntropy, aux, loads };
  };

  let seed = 14;
  const batch = (from: number, to: number) => {
    const rows = Array.from({ length: size.batch }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31; // a fixed sequence of window starts
      const start = from + (seed % (to - from - size.window - 1));
      return ids.slice(start, start + size.window + 1);
    });
    return tf.tensor2d(rows, undefined, 'int32'); // [B, window + 1]
  };
  const probe = batch(0, split);
  const heldOut = batch(split, ids.length);
  const lossOf = (x: tf.Tensor2D) => tf.tidy(() => forward(x, false).crossEntropy.dataSync()[0]!);
  const before = lossOf(probe);
  const optimizer = tf.train.adam(3e-3);
  for (let step = 0; step < size.steps; step++) {
    const x = batch(0, split);
    optimizer.minimize(() => tf.tidy(() => {
      const { crossEntropy, aux } = forward(x, true);
      return tf.add(crossEntropy, aux) as tf.Scalar;
    }), false, variables);
    x.dispose();
  }
  const after = lossOf(probe);
  const loads = tf.tidy(() => forward(heldOut, false).loads.map(([a, m]) => [Array.from(a.dataSync()), Array.from(m.dataSync())]));

  console.log(`JetMoE-style LM (${size.blocks} block${size.blocks > 1 ? 's' : ''}: MoA ${size.experts} attention experts top-2 over shared K/V + MoE FFN ${size.experts} experts top-2) on ${size.chars} characters of Moby-Dick (${V} symbols)`);
  console.log(`cross entropy ${before.toFixed(3)} -> ${after.toFixed(3)} nats/char after ${size.steps} Adam steps`);
  loads.forEach(([attention, mlp], i) => console.log(`block ${i}, held-out ${size.batch}×${size.window} tokens: attention router load [${attention!.join(', ')}]; FFN router load [${mlp!.join(', ')}]`));

  tf.dispose([probe, heldOut, embed]);
  optimizer.dispose();
  for (const block of blocks) block.dispose();
  norm.dispose();
}
