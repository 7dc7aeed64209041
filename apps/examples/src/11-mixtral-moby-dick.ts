/**
 * 11 · a Mixtral-style decoder on Moby-Dick: a tiny `MixtralCausalLM` (RMSNorm, RoPE, grouped-query
 * attention, top-2 sparse SwiGLU experts) trained on the novel's characters, exported as a Hugging Face
 * checkpoint folder (`model.safetensors` + `config.json`, what `transformers`' `MixtralForCausalLM`
 * loads), reloaded from the folder into a fresh model with identical logits, then greedy generation.
 */
import * as tf from '@tensorflow/tfjs';
import { loadMobyDickText } from '@moekit/datasets';
import { mixtralCheckpointTensors, mixtralFromCheckpoint, mixtralHfConfig } from '@moekit/hf';
import { loadHfCheckpoint, saveHfCheckpoint } from '@moekit/hf/node';
import { MixtralCausalLM } from '@moekit/transformer';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes `model` as a HF checkpoint folder: `model.safetensors` + `config.json`, each file replaced atomically. */
async function saveFolder(model: MixtralCausalLM, folder: string): Promise<void> {
  const tensors = mixtralCheckpointTensors(model);
  try {
    await saveHfCheckpoint(folder, { tensors, config: mixtralHfConfig(model) });
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

/** Reads a HF checkpoint folder into a fresh model. */
async function loadFolder(folder: string): Promise<MixtralCausalLM> {
  const { tensors, config } = await loadHfCheckpoint(folder);
  try {
    return mixtralFromCheckpoint(config, tensors);
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

/** Runs the example; `quick` trains a one-layer model for a few steps on a short slice. */
export async function run(options: { quick: boolean }): Promise<void> {
  const size = options.quick
    ? { chars: 4_000, hidden: 16, intermediate: 24, layers: 1, heads: 2, kvHeads: 1, experts: 4, steps: 3, batch: 4, window: 16, newTokens: 8 }
    : { chars: 200_000, hidden: 64, intermediate: 96, layers: 2, heads: 4, kvHeads: 2, experts: 4, steps: 300, batch: 16, window: 64, newTokens: 120 };
  const text = loadMobyDickText().slice(0, size.chars);
  const vocab = [...new Set(text)].sort();
  const index = new Map(vocab.map((c, i) => [c, i]));
  const encode = (s: string) => [...s].map((c) => index.get(c) ?? index.get(' ')!);
  const ids = encode(text);

  const model = new MixtralCausalLM({
    vocabSize: vocab.length,
    hiddenSize: size.hidden,
    intermediateSize: size.intermediate,
    numHiddenLayers: size.layers,
    numAttentionHeads: size.heads,
    numKeyValueHeads: size.kvHeads,
    numLocalExperts: size.experts,
    numExpertsPerTok: 2,
    maxPositionEmbeddings: 256,
    routerAuxLossCoef: 0.01,
    seed: 11,
  });
  const optimizer = tf.train.adam(3e-3);
  let seed = 11;
  const batch = () => {
    const rows = Array.from({ length: size.batch }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31; // a fixed sequence of window starts
      const start = seed % (ids.length - size.window - 1);
      return ids.slice(start, start + size.window + 1);
    });
    return tf.tensor2d(rows, undefined, 'int32'); // [B, window + 1]
  };
  const lossOf = (x: tf.Tensor2D) => tf.tidy(() => model.loss(x, { training: false }).crossEntropy.dataSync()[0]!);
  const probe = batch();
  const before = lossOf(probe);
  for (let step = 0; step < size.steps; step++) {
    const x = batch();
    optimizer.minimize(() => model.loss(x, { training: true }).total, false, model.trainableVariables);
    x.dispose();
  }
  const after = lossOf(probe);

  const folder = mkdtempSync(join(tmpdir(), 'moekit-mixtral-'));
  const reloaded = await (async () => {
    await saveFolder(model, folder);
    return await loadFolder(folder);
  })();
  const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(model.logits(probe), reloaded.logits(probe)))).dataSync()[0]!);
  if (difference !== 0) throw new Error(`the reloaded checkpoint differs from the trained model by ${difference}`);

  const prompt = 'Call me Ishmael. ';
  const promptIds = tf.tensor2d([encode(prompt)], undefined, 'int32');
  const generated = reloaded.generate(promptIds, size.newTokens);
  const continuation = (generated.arraySync()[0]!.slice(prompt.length) as number[]).map((i) => vocab[i]).join('');

  console.log(`Mixtral-style decoder (${size.layers} layers, ${size.experts} experts, top-2, GQA ${size.heads}/${size.kvHeads} heads) on ${size.chars} characters of Moby-Dick (${vocab.length} symbols)`);
  console.log(`cross entropy ${before.toFixed(3)} -> ${after.toFixed(3)} nats/char after ${size.steps} Adam steps`);
  console.log(`exported to ${folder} (model.safetensors + config.json), reloaded: largest logit difference ${difference}`);
  console.log(`greedy: ${JSON.stringify(prompt + continuation)}`);

  tf.dispose([probe, promptIds, generated]);
  optimizer.dispose();
  model.dispose();
  reloaded.dispose();
  rmSync(folder, { recursive: true, force: true });
}
