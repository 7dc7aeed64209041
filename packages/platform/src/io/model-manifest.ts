// What model.json says about the weights: where they are (files inside the folder, checked) and
// how many bytes they hold. Internal: not exported from the package index.
import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '@moekit/core';

/** model.json as `fileSystem` writes it: tfjs's model JSON plus the weights' length and SHA-256. */
export type MoekitModelJson = tf.io.ModelJSON & { moekitWeights?: { bytes: number; sha256: string } };

/** Bytes a weights manifest describes (float32/int32 4 bytes, bool 1; quantised weights are not written here). */
export function manifestBytes(specs: tf.io.WeightsManifestEntry[]): number {
  return specs.reduce((n, s) => n + tf.util.sizeFromShape(s.shape) * (s.dtype === 'bool' ? 1 : 4), 0);
}

/**
 * The weights files a manifest names, in order, as plain names of files in the model folder
 * (`./weights.bin` and `weights.bin` both give `weights.bin`). A path that leaves the folder or
 * names a subfolder is an `MoEArgumentError` from `where`.
 */
export function weightsFileNames(modelJson: MoekitModelJson, where: string): string[] {
  return (modelJson.weightsManifest ?? []).flatMap((group) => group.paths).map((path) => {
    const name = typeof path === 'string' && path.startsWith('./') ? path.slice(2) : path;
    if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || /[/\\]/.test(name) || name.includes('\0')) {
      throw new MoEArgumentError(where, 'weightsManifest.paths', 'names of files inside the model folder', JSON.stringify(path));
    }
    return name;
  });
}
