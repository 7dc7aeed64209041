// Every browser test file runs on tfjs's webgl backend: select it, or fail the run. Shapes are passed
// to shaders as uniforms (a tfjs flag, off by default) so that SwiftShader compiles one program per op
// rather than one per op and shape: it halves the run; the kernels' arithmetic is the same.
import * as tf from '@tensorflow/tfjs';
import { keepTopKOnDevice } from './packages/platform/src/backends/keep-top-k-on-device.js';

tf.env().set('WEBGL_USE_SHAPES_UNIFORMS', true);
if (!(await tf.setBackend('webgl')) || tf.getBackend() !== 'webgl') {
  throw new Error(`vitest.browser.setup: expected the webgl backend, got '${tf.getBackend()}'`);
}
// what selectBackend() does on webgl: TopK sorts on the GPU instead of reading its input to the host
keepTopKOnDevice();
