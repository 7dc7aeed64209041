// Runs in a scratch project where the packages were installed from their npm tarballs.
import * as tf from '@tensorflow/tfjs';
import { registerMoekitKernels } from '@moekit/platform';
import { HashGate, HashGridExperts, MoENeRF, gateDecompositionImage, generateRays, orbitCameras, spatialHash } from '@moekit/experts-hash-nerf';
import { writePng } from '@moekit/experts-hash-nerf/node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

await tf.setBackend('cpu');
registerMoekitKernels();
const nerf = new MoENeRF({
  gate: new HashGate({ numExperts: 2, seed: 1 }),
  experts: new HashGridExperts({ experts: [{ encoding: { numLevels: 2, log2TableSize: 8 } }, { encoding: { numLevels: 3, log2TableSize: 10 } }], seed: 2 }),
});
const rays = generateRays(orbitCameras({ numViews: 1, size: 4 })[0]);
const { grads } = tf.variableGrads(() => tf.mean(nerf.render(rays, { near: 0.6, far: 2.6, numSamples: 8, training: true, seed: 1 }).rgb), nerf.trainableVariables);
const dir = mkdtempSync(join(tmpdir(), 'moekit-nerf-'));
const image = gateDecompositionImage(nerf.gate, { size: 8 });
writePng(join(dir, 'gate.png'), image.png);
const written = readFileSync(join(dir, 'gate.png'));
rmSync(dir, { recursive: true });
const registered = tf.serialization.SerializationMap.getMap().classNameMap;
if (Object.keys(grads).length !== 5 + 10 || spatialHash(1, 1, 1, 14) !== 11813 || written.length !== image.png.length || !registered.HashGate || !registered.HashGridExperts) {
  throw new Error(`experts-hash-nerf packed install is broken (${Object.keys(grads).length} gradients)`);
}
console.log(`MoENeRF rendered 16 rays with ${Object.keys(grads).length} gradients; wrote a ${written.length}-byte decomposition PNG`);
