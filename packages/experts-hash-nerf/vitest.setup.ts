// Tests run on the pure-JS cpu backend. Mark it used so tfjs does not print its "install tfjs-node"
// banner into every test file's output, and register moekit's kernels: the hash tables learn through
// `gather`, whose gradient is an `UnsortedSegmentSum`, O(segments · N) in stock tfjs on cpu.
import * as tf from '@tensorflow/tfjs';
import { registerMoekitKernels } from '@moekit/platform';

await tf.setBackend('cpu');
(tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
registerMoekitKernels();
