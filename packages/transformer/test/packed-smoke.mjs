// Runs in a scratch project where the packages were installed from their npm tarballs.
import * as tf from '@tensorflow/tfjs';
import { MixtralCausalLM } from '@moekit/transformer';

await tf.setBackend('cpu');
const model = new MixtralCausalLM({ vocabSize: 13, hiddenSize: 8, intermediateSize: 12, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, numLocalExperts: 3, seed: 1 });
const ids = tf.tensor2d([[1, 5, 12]], [1, 3], 'int32');
const logits = model.logits(ids);
const generated = model.generate(ids, 2);
if (logits.shape.join() !== '1,3,13' || generated.shape.join() !== '1,5' || !tf.serialization.SerializationMap.getMap().classNameMap.MixtralCausalLM) {
  throw new Error('transformer packed install is broken');
}
console.log(`MixtralCausalLM gave logits [${logits.shape.join(', ')}] and generated ${generated.shape[1] - 3} tokens; class registered`);
