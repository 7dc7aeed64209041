import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '@moekit/core';
import { currentOwner, isSavedWeightsName, ownedFileName } from './file-owner.js';
import { withFolderLock } from './folder-lock.js';
import { manifestBytes, weightsFileNames, type MoekitModelJson } from './model-manifest.js';
import { linkedEntryError, readRegularFile, syncFolder, writeNewFile } from './no-follow-file.js';
import { errorCode, nodeFiles, type NodeFiles } from './node-files.js';
import { removeIfPresent, removeStaleFiles } from './stale-files.js';

const MODEL_FILE = 'model.json';
/** How often a load starts over when a save replaced the model between its reads. */
const LOAD_ATTEMPTS = 5;

/** model.json's text in `folder`, or undefined when there is none; a link is refused. */
async function readModelText(fs: NodeFiles['fs'], modelPath: string, where: string): Promise<string | undefined> {
  try {
    return (await readRegularFile(fs, modelPath, where)).toString('utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** The weights files model.json names that a save wrote (and so a later save may delete); none if it is unreadable. */
async function committedWeights(fs: NodeFiles['fs'], modelPath: string, where: string): Promise<Set<string> | undefined> {
  const text = await readModelText(fs, modelPath, where).catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return new Set(weightsFileNames(JSON.parse(text) as MoekitModelJson, where));
  } catch {
    return undefined;
  }
}

/**
 * Saves `artifacts` into `directory` (called with the folder's lock held): the weights go to a new
 * file whose name no one can predict or has used, model.json to a new temporary file; one rename of
 * the temporary over model.json commits the save; the weights the old model.json named are deleted
 * after. Killed at any instant, the folder holds the complete old model or the complete new one.
 */
async function saveInto(node: NodeFiles, directory: string, artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
  const { fs, path, crypto } = node;
  const where = 'fileSystem.save';
  const modelPath = path.join(directory, MODEL_FILE);
  const entry = await fs.lstat(modelPath).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  });
  if (entry?.isSymbolicLink()) throw linkedEntryError(where, modelPath);
  const previous = entry === undefined ? new Set<string>() : ((await committedWeights(fs, modelPath, where)) ?? new Set<string>());

  const weights = new Uint8Array(artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData));
  const specs = artifacts.weightSpecs ?? [];
  const owner = currentOwner(node);
  const weightsName = ownedFileName(node, owner, 'weights');
  const temporary = path.join(directory, ownedFileName(node, owner, 'model'));
  const modelJson = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [`./${weightsName}`], weights: specs }],
    ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
    ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
    moekitWeights: { bytes: weights.byteLength, sha256: crypto.createHash('sha256').update(weights).digest('hex') },
  };
  try {
    await writeNewFile(fs, path.join(directory, weightsName), weights);
    await writeNewFile(fs, temporary, JSON.stringify(modelJson));
    await fs.rename(temporary, modelPath); // the commit: replaces the entry itself, never writes through a link
  } catch (error) {
    await removeIfPresent(fs, temporary).catch(() => undefined);
    await removeIfPresent(fs, path.join(directory, weightsName)).catch(() => undefined);
    throw error;
  }
  await syncFolder(fs, directory);
  // Each weights name is committed by one save only, so the old model's weights are never committed
  // again: deleting them cannot break a model.json that another process commits meanwhile.
  for (const name of previous) if (name !== weightsName && isSavedWeightsName(name)) await removeIfPresent(fs, path.join(directory, name));
  await removeStaleFiles(node, directory, owner, () => committedWeights(fs, modelPath, where));
  return {
    modelArtifactsInfo: {
      dateSaved: new Date(),
      modelTopologyType: 'JSON',
      modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
      weightSpecsBytes: JSON.stringify(specs).length,
      weightDataBytes: weights.byteLength,
    },
  };
}

/** One attempt to load: model.json, then the weights it names; `'replaced'` when those weights vanished because model.json changed meanwhile. */
async function loadOnce(node: NodeFiles, directory: string): Promise<tf.io.ModelArtifacts | 'replaced'> {
  const { fs, path, crypto } = node;
  const where = 'fileSystem.load';
  const modelPath = path.join(directory, MODEL_FILE);
  let text: string;
  let modelJson: MoekitModelJson;
  try {
    text = (await readRegularFile(fs, modelPath, where)).toString('utf8');
    modelJson = JSON.parse(text) as MoekitModelJson;
  } catch (error) {
    if (error instanceof MoEArgumentError) throw error;
    throw new Error(`fileSystem: cannot read ${modelPath}: ${(error as Error).message}`);
  }
  const specs = (modelJson.weightsManifest ?? []).flatMap((group) => group.weights);
  const files = weightsFileNames(modelJson, where).map((name) => path.join(directory, name));
  const parts: Buffer[] = [];
  for (const file of files) {
    try {
      parts.push(await readRegularFile(fs, file, where));
    } catch (error) {
      if (error instanceof MoEArgumentError) throw error;
      if (errorCode(error) === 'ENOENT' && (await readModelText(fs, modelPath, where).catch(() => undefined)) !== text) return 'replaced';
      throw new Error(`fileSystem: cannot read ${file}: ${(error as Error).message}`);
    }
  }
  const weights = Buffer.concat(parts);
  const weightsPath = files.join(' + ');
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
}

/**
 * A `tf.io.IOHandler` that saves a model to and loads it from a folder in Node without
 * `@tensorflow/tfjs-node` (which has the `file://` scheme, but cannot be installed everywhere):
 * `model.json` (topology and weights manifest) and one weights file `weights-<writer>-<random>.bin`.
 *
 * A save is atomic: the weights go to a new file, then model.json is committed by one rename, then
 * the old weights are deleted, so a process killed at any instant leaves the complete old model or
 * the complete new one. Saves into one folder from one process run one after another in call order;
 * saves from several processes leave the model whose commit came last. Files are created only new,
 * under names no one can predict (128 random bits), never through a link; a model.json or weights
 * file that is a symbolic link is refused on save and on load. model.json records the weights' byte
 * length and SHA-256, and loading checks both, so a truncated or corrupted weights file is an error
 * naming the file, never a silently wrong model. Folders of the first format (`model.json` +
 * `weights.bin`, tfjs-node's `file://` layout) load as before.
 *
 * @param directory the folder to save into or load from (created on save).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { fileSystem } from '@moekit/platform';
 *
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
      // Queued under the path as given at once, so saves keep their call order; then under the
      // folder's real path, so two spellings of one folder never save at the same time.
      return withFolderLock(`given:${directory}`, async () => {
        const node = await nodeFiles();
        if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('fileSystem: saving a binary (graph) topology is not supported');
        await node.fs.mkdir(directory, { recursive: true });
        return withFolderLock(`real:${await node.fs.realpath(directory)}`, () => saveInto(node, directory, artifacts));
      });
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const node = await nodeFiles();
      for (let attempt = 1; ; attempt++) {
        const loaded = await loadOnce(node, directory);
        if (loaded !== 'replaced') return loaded;
        if (attempt === LOAD_ATTEMPTS) throw new Error(`fileSystem: ${directory} was replaced by saves ${LOAD_ATTEMPTS} times while loading it; try again`);
      }
    },
  };
}
