// Runs in a scratch project where the packages were installed from their npm tarballs (scripts/check-packed-install.mjs).
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSystem, registerMoekitKernels, selectBackend } from '@moekit/platform';
import { useWasmTestBackend } from '@moekit/platform/testing';

const choice = await selectBackend({ prefer: ['cpu'] });
const kernels = registerMoekitKernels();
const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
const dir = mkdtempSync(join(tmpdir(), 'moekit-platform-smoke-'));
await model.save(fileSystem(dir));
const files = readdirSync(dir).sort();
const restored = await tf.loadLayersModel(fileSystem(dir));
rmSync(dir, { recursive: true, force: true });
if (choice.backend !== 'cpu' || !kernels.includes('UnsortedSegmentSum/cpu') || files.length !== 2 || files[0] !== 'model.json' || !/^weights-.*\.bin$/.test(files[1]) || restored.layers.length !== 1 || typeof useWasmTestBackend !== 'function') {
  throw new Error(`platform packed install is broken: ${JSON.stringify({ choice, kernels, files })}`);
}
console.log(`backend ${choice.backend}, ${kernels.length} kernels registered, model saved as ${files.join(' + ')} and loaded`);
