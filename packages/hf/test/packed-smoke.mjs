// Runs in a scratch project where the packages were installed from their npm tarballs.
import * as tf from '@tensorflow/tfjs';
import { decodeSafetensors, encodeSafetensors } from '@moekit/hf';

await tf.setBackend('cpu');
const weight = tf.tensor2d([[1, 2], [3, 4]]);
const bytes = await encodeSafetensors({ weight }, { metadata: { format: 'pt' }, floatDtype: 'BF16' });
const { tensors, metadata } = decodeSafetensors(bytes);
if (metadata.format !== 'pt' || tensors.get('weight').arraySync()[1][1] !== 4) throw new Error('hf packed install is broken');
console.log(`safetensors round trip: ${bytes.length} bytes, ${tensors.size} tensor, BF16`);
