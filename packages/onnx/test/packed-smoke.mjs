// Runs in a scratch project where the packages were installed from their npm tarballs.
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { LinearTopKRouter } from '@moekit/core/testing';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { convertibleKernels, exportMixtureOfExperts } from '@moekit/onnx';

await tf.setBackend('cpu');
const moe = new MixtureOfExperts({
  router: new LinearTopKRouter({ inputDim: 8, numExperts: 4, k: 2, seed: 1 }),
  experts: new FeedForwardExperts({ numExperts: 4, inputDim: 8, hiddenDim: 16, seed: 2 }),
  capacity: { train: 1.25, eval: 1.25 },
});
const bytes = exportMixtureOfExperts(moe, { numTokens: 16 });
// a ModelProto starts with field 1 (ir_version, varint 8) and names its producer
if (bytes[0] !== 0x08 || bytes[1] !== 8 || !new TextDecoder().decode(bytes.subarray(0, 64)).includes('moekit')) throw new Error('onnx packed install is broken');
console.log(`exported a top-2 MoE of 4 FFN experts as ${bytes.length} bytes of ONNX; ${convertibleKernels().length} tfjs kernels convertible`);
moe.dispose();
