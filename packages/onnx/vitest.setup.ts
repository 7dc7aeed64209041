// Tests run on the pure-JS cpu backend (the wasm backend has its own suite). Mark it used so tfjs does
// not print its "install tfjs-node" banner into every test file's output.
import * as tf from '@tensorflow/tfjs';

await tf.setBackend('cpu');
(tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
