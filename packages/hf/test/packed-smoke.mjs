// Runs in a scratch project where the packages were installed from their npm tarballs.
import * as tf from '@tensorflow/tfjs';
import { decodeSafetensors, encodeSafetensors } from '@moekit/hf';

await tf.setBackend('cpu');
const weight = tf.tensor2d([[1, 2], [3, 4]]);
const bytes = await encodeSafetensors({ weight }, { metadata: { format: 'pt' }, floatDtype: 'BF16' });
const { tensors, metadata } = decodeSafetensors(bytes);
if (metadata.format !== 'pt' || tensors.get('weight').arraySync()[1][1] !== 4) throw new Error('hf packed install is broken');
console.log(`safetensors round trip: ${bytes.length} bytes, ${tensors.size} tensor, BF16`);

// the Mixtral layout and the ./node entry: export, save to a folder, load, import into a fresh MoE
const { mixtralSparseMoe, mixtralSparseMoeTensors, loadMixtralSparseMoe, mixtralConfig } = await import('@moekit/hf');
const { saveHfCheckpoint, loadHfCheckpoint } = await import('@moekit/hf/node');
const { mkdtemp, rm } = await import('node:fs/promises');
const { join } = await import('node:path');
const { tmpdir } = await import('node:os');
const config = { hidden_size: 4, intermediate_size: 8, num_local_experts: 3, num_experts_per_tok: 2 };
const prefix = 'model.layers.0.block_sparse_moe.';
const moe = mixtralSparseMoe(config, { seed: 1 });
const folder = await mkdtemp(join(tmpdir(), 'hf-packed-smoke-'));
try {
  await saveHfCheckpoint(folder, { tensors: mixtralSparseMoeTensors(moe, prefix), config: { model_type: 'mixtral', ...mixtralConfig(moe) } });
  const loaded = await loadHfCheckpoint(folder);
  const restored = mixtralSparseMoe(loaded.config, { seed: 2 });
  loadMixtralSparseMoe(restored, loaded.tensors, prefix);
  const x = tf.randomNormal([3, 4]);
  const same = tf.equal(moe.apply(x, { training: false }).output, restored.apply(x, { training: false }).output).all().dataSync()[0];
  if (same !== 1) throw new Error('hf packed install: the Mixtral round trip is not exact');
  console.log(`Mixtral layout round trip through ${loaded.tensors.size} tensors in a folder: exact`);
} finally {
  await rm(folder, { recursive: true, force: true });
}
