// Runs in a scratch project where the packages were installed from their npm tarballs.
import * as tf from '@tensorflow/tfjs';
import { JetMoEBlock } from '@moekit/attention';

await tf.setBackend('cpu');
const block = new JetMoEBlock({ hiddenSize: 16, ffnHiddenSize: 12, numExperts: 4, k: 2, headDim: 4, seed: 1 });
const { output, auxLosses, attentionLoad } = block.apply(tf.randomNormal([2, 5, 16]), { training: true });
if (output.shape.join() !== '2,5,16' || attentionLoad.dataSync().reduce((a, b) => a + b, 0) !== 20 || !('mlp' in auxLosses) || !tf.serialization.SerializationMap.getMap().classNameMap.JetMoEBlock) {
  throw new Error('attention packed install is broken');
}
console.log('JetMoEBlock ran 10 tokens through MoA and the MoE FFN; class registered');
