import * as tf from '@tensorflow/tfjs-core';
import { dynamicImport } from '../backends/optional-import.js';
import { MoEArgumentError } from '@moekit/core';

type Fs = typeof import('node:fs/promises');
type PathModule = typeof import('node:path');
type Crypto = typeof import('node:crypto');

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

/** Bytes a weights manifest describes (float32/int32 4 bytes, bool 1; quantised weights are not written here). */
function manifestBytes(specs: tf.io.WeightsManifestEntry[]): number {
  return specs.reduce((n, s) => n + tf.util.sizeFromShape(s.shape) * (s.dtype === 'bool' ? 1 : 4), 0);
}

async function nodeModules(): Promise<{ fs: Fs; path: PathModule; crypto: Crypto }> {
  if (!tf.env().getBool('IS_NODE')) throw new Error('fileSystem: needs Node (use tf.io.browserDownloads or indexeddb:// in a browser)');
  const [fs, path, crypto] = await Promise.all([dynamicImport<Fs>('node:fs/promises'), dynamicImport<PathModule>('node:path'), dynamicImport<Crypto>('node:crypto')]);
  return { fs, path, crypto };
}

/** Writes `data` to `target` atomically: a temporary file in the same folder, then a rename. */
async function writeAtomically(fs: Fs, target: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${target}.${process.pid}.${Date.now()}.tmp`;
  try {
    await fs.writeFile(temporary, data);
    await fs.rename(temporary, target);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
}

/**
 * A `tf.io.IOHandler` that saves a model to and loads it from a folder in Node without
 * `@tensorflow/tfjs-node` (which has the `file://` scheme, but cannot be installed everywhere):
 * `model.json` (topology and weights manifest) and `weights.bin`, each written atomically (a
 * temporary file, then a rename), weights first. `model.json` records the weights' byte length and
 * SHA-256, and loading checks both, so a truncated or corrupted weights file is an error naming
 * the file, never a silently wrong model.
 *
 * @param directory the folder to save into or load from (created on save).
 * @example
 * ```ts
 * await model.save(fileSystem('./my-model'));
 * const restored = await tf.loadLayersModel(fileSystem('./my-model'));
 * ```
 */
export function fileSystem(directory: string): tf.io.IOHandler {
  if (typeof directory !== 'string' || directory.length === 0) {
    throw new MoEArgumentError('fileSystem', 'directory', 'a non-empty folder path', String(directory));
  }
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const { fs, path, crypto } = await nodeModules();
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('fileSystem: saving a binary (graph) topology is not supported');
      await fs.mkdir(directory, { recursive: true });
      const weights = new Uint8Array(
        artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData),
      );
      const specs = artifacts.weightSpecs ?? [];
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: specs }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        moekitWeights: { bytes: weights.byteLength, sha256: crypto.createHash('sha256').update(weights).digest('hex') },
      };
      await writeAtomically(fs, path.join(directory, WEIGHTS_FILE), weights);
      const json = JSON.stringify(modelJson);
      await writeAtomically(fs, path.join(directory, MODEL_FILE), json);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
          weightSpecsBytes: JSON.stringify(specs).length,
          weightDataBytes: weights.byteLength,
        },
      };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const { fs, path, crypto } = await nodeModules();
      const modelPath = path.join(directory, MODEL_FILE);
      const weightsPath = path.join(directory, WEIGHTS_FILE);
      let modelJson: tf.io.ModelJSON & { moekitWeights?: { bytes: number; sha256: string } };
      try {
        modelJson = JSON.parse(await fs.readFile(modelPath, 'utf8'));
      } catch (error) {
        throw new Error(`fileSystem: cannot read ${modelPath}: ${(error as Error).message}`);
      }
      const specs = (modelJson.weightsManifest ?? []).flatMap((group) => group.weights);
      let weights: Buffer;
      try {
        weights = await fs.readFile(weightsPath);
      } catch (error) {
        throw new Error(`fileSystem: cannot read ${weightsPath}: ${(error as Error).message}`);
      }
      const expected = manifestBytes(specs);
      if (weights.byteLength !== expected) {
        throw new Error(`fileSystem: ${weightsPath} holds ${weights.byteLength} bytes, but ${modelPath} describes ${expected} (truncated or from another model)`);
      }
      const recorded = modelJson.moekitWeights;
      if (recorded !== undefined && crypto.createHash('sha256').update(weights).digest('hex') !== recorded.sha256) {
        throw new Error(`fileSystem: ${weightsPath} does not match the SHA-256 recorded in ${modelPath} (the file is corrupted)`);
      }
      return {
        modelTopology: modelJson.modelTopology,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
        weightSpecs: specs,
        weightData: new Uint8Array(weights).buffer, // a copy: the read Buffer may share a pooled ArrayBuffer
        ...(modelJson.trainingConfig ? { trainingConfig: modelJson.trainingConfig } : {}),
        ...(modelJson.userDefinedMetadata ? { userDefinedMetadata: modelJson.userDefinedMetadata } : {}),
      };
    },
  };
}
