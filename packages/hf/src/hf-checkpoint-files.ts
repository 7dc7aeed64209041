import { constants } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError, rejectUnknownOptions } from '@moekit/core';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFloatDtype } from './safetensors.js';

/** The file names `transformers` reads (`save_pretrained` / `from_pretrained`). */
const WEIGHTS = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';
const CONFIG = 'config.json';

/** What {@link saveHfCheckpoint} writes. */
export interface HfCheckpoint {
  /** The tensors by checkpoint name (not disposed by the save). */
  tensors: ReadonlyMap<string, tf.Tensor>;
  /** The `config.json` object (`model_type`, `architectures`, the layout's fields, …). */
  config: Record<string, unknown>;
}

/** Options of {@link saveHfCheckpoint}. */
export interface SaveHfCheckpointOptions {
  /** How float32 tensors are stored: `'F32'` (default, exact), `'F16'` or `'BF16'` (rounded to nearest even). */
  floatDtype?: SafetensorsFloatDtype;
}

/** What {@link loadHfCheckpoint} returns; the caller owns (and disposes) the tensors. */
export interface LoadedHfCheckpoint {
  /** Every tensor of the checkpoint by name (from all shards of a sharded one). */
  tensors: Map<string, tf.Tensor>;
  /** The parsed `config.json`. */
  config: Record<string, unknown>;
}

const errorCode = (error: unknown) => (error as { code?: string } | null)?.code;
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
/** This host, hashed: a temporary file's name records its writer, so a later save can remove a dead writer's leftovers. */
const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
const TEMPORARY = /^\.hf-([0-9a-f]{8})-(\d+)-[0-9a-f]{32}\.tmp$/;

/** Throws unless `file` is absent or a regular file (a symbolic link, a folder, … is refused). */
async function checkTarget(where: string, file: string): Promise<void> {
  const entry = await fs.lstat(file).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  });
  if (entry !== undefined && !entry.isFile()) {
    throw new MoEArgumentError(where, 'directory', 'a folder whose checkpoint files are regular files (a link is never followed)', `${entry.isSymbolicLink() ? 'a symbolic link' : 'something other than a file'} at ${file}`);
  }
}

/** Writes `data` to a new file in `directory` under an unpredictable name (`O_EXCL | O_NOFOLLOW`), flushed to the disk; returns its path. */
async function writeTemporary(directory: string, data: string | Uint8Array): Promise<string> {
  const file = path.join(directory, `.hf-${HOST}-${process.pid}-${randomBytes(16).toString('hex')}.tmp`);
  const handle = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW, 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.unlink(file).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return file;
}

/** Removes the temporary files of saves on this host whose process has ended (a crash's leftovers). */
async function removeStaleTemporaries(directory: string): Promise<void> {
  for (const name of await fs.readdir(directory)) {
    const match = TEMPORARY.exec(name);
    if (match === null || match[1] !== HOST || Number(match[2]) === process.pid) continue;
    try {
      process.kill(Number(match[2]), 0);
    } catch (error) {
      if (errorCode(error) === 'ESRCH') await fs.unlink(path.join(directory, name)).catch(() => undefined);
    }
  }
}

/** Flushes the folder's entries (the renames) to the disk; a no-op where folders cannot be opened. */
async function syncFolder(directory: string): Promise<void> {
  const handle = await fs.open(directory, 'r').catch(() => undefined);
  await handle?.sync().catch(() => undefined);
  await handle?.close();
}

/**
 * Writes a Hugging Face checkpoint into `directory` (created if needed): `model.safetensors`
 * (metadata `{ format: 'pt' }`, which `transformers` expects) and `config.json`. Each file is written
 * to a new, unpredictably named temporary file in the same folder, flushed to the disk, then renamed
 * over its target, so a crash leaves each file complete (old or new), never half written; a target
 * that is a symbolic link (or anything but a regular file) is refused, never written through. The
 * weights are renamed first and `config.json` second. Temporary files of saves whose process died
 * are removed. Does not dispose the tensors.
 *
 * @example
 * ```ts
 * import { mixtralConfig, mixtralSparseMoeTensors } from '@moekit/hf';
 * import { saveHfCheckpoint } from '@moekit/hf/node';
 *
 * const tensors = mixtralSparseMoeTensors(moe, 'model.layers.0.block_sparse_moe.');
 * await saveHfCheckpoint('./out', { tensors, config: { model_type: 'mixtral', ...mixtralConfig(moe) } });
 * tf.dispose([...tensors.values()]);
 * ```
 */
export async function saveHfCheckpoint(directory: string, checkpoint: HfCheckpoint, options: SaveHfCheckpointOptions = {}): Promise<void> {
  const where = 'saveHfCheckpoint';
  if (typeof directory !== 'string' || directory === '') throw new MoEArgumentError(where, 'directory', 'a non-empty folder path', String(directory));
  if (typeof checkpoint !== 'object' || checkpoint === null) throw new MoEArgumentError(where, 'checkpoint', '{ tensors, config }', String(checkpoint));
  rejectUnknownOptions(where, checkpoint, ['tensors', 'config']);
  rejectUnknownOptions(where, options, ['floatDtype']);
  const { tensors, config } = checkpoint;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new MoEArgumentError(where, 'checkpoint.config', 'a config.json object', String(config));
  const configText = `${JSON.stringify(config, null, 2)}\n`;
  const bytes = await encodeSafetensors(tensors, { metadata: { format: 'pt' }, ...(options.floatDtype === undefined ? {} : { floatDtype: options.floatDtype }) });
  await fs.mkdir(directory, { recursive: true });
  const written: string[] = [];
  try {
    for (const [target, data] of [[WEIGHTS, bytes], [CONFIG, configText]] as const) {
      await checkTarget(where, path.join(directory, target));
      const temporary = await writeTemporary(directory, data);
      written.push(temporary);
      await fs.rename(temporary, path.join(directory, target)); // replaces the entry itself, never writes through a link
      written.pop();
    }
  } finally {
    for (const file of written) await fs.unlink(file).catch(() => undefined);
  }
  await syncFolder(directory);
  await removeStaleTemporaries(directory);
}

/** Reads `file` if it is a regular file (never through a link); a missing file is an error naming `what`. */
async function readRegular(where: string, file: string, what: string): Promise<Buffer> {
  let handle: fs.FileHandle;
  try {
    const entry = await fs.lstat(file);
    if (!entry.isFile()) throw new MoEArgumentError(where, 'directory', `${what} as a regular file (a link is never followed)`, `${entry.isSymbolicLink() ? 'a symbolic link' : 'something other than a file'} at ${file}`);
    handle = await fs.open(file, constants.O_RDONLY | NO_FOLLOW);
  } catch (error) {
    if (error instanceof MoEArgumentError) throw error;
    if (errorCode(error) === 'ENOENT') throw new MoEArgumentError(where, 'directory', `a folder holding ${what}`, `no ${path.basename(file)} in ${path.dirname(file)}`);
    if (errorCode(error) === 'ELOOP') throw new MoEArgumentError(where, 'directory', `${what} as a regular file (a link is never followed)`, `a symbolic link at ${file}`);
    throw error;
  }
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** `file`'s JSON object; bad JSON or a non-object is an error naming the file. */
async function readJsonObject(where: string, file: string, what: string): Promise<Record<string, unknown>> {
  const text = (await readRegular(where, file, what)).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MoEArgumentError(where, path.basename(file), 'valid JSON', (error as Error).message);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new MoEArgumentError(where, path.basename(file), 'a JSON object', JSON.stringify(json));
  return json as Record<string, unknown>;
}

/** `model.safetensors.index.json`'s `weight_map`, grouped by shard; a shard name that leaves the folder is refused. */
async function readIndex(where: string, directory: string): Promise<Map<string, string[]>> {
  const index = await readJsonObject(where, path.join(directory, INDEX), INDEX);
  const map = index['weight_map'];
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new MoEArgumentError(where, `${INDEX}.weight_map`, 'an object of tensor names to shard file names', JSON.stringify(map));
  const shards = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard === '' || shard !== path.basename(shard) || shard === '.' || shard === '..') {
      throw new MoEArgumentError(where, `${INDEX}.weight_map['${name}']`, 'the name of a shard file in the same folder', JSON.stringify(shard));
    }
    shards.set(shard, [...(shards.get(shard) ?? []), name]);
  }
  return shards;
}

/**
 * Reads a Hugging Face checkpoint from `directory`: `config.json` and either `model.safetensors` or,
 * without it, the shards `model.safetensors.index.json`'s `weight_map` names (each tensor read from
 * the shard the map gives). Files are read only if they are regular files, never through a link.
 * A missing file, bad JSON, a `weight_map` naming a file outside the folder or a tensor its shard
 * lacks is an `MoEArgumentError`; nothing leaks when a read fails half way.
 *
 * @example
 * ```ts
 * import { loadMixtralSparseMoe, mixtralSparseMoe } from '@moekit/hf';
 * import { loadHfCheckpoint } from '@moekit/hf/node';
 *
 * const { tensors, config } = await loadHfCheckpoint('./mixtral-tiny');
 * const moe = mixtralSparseMoe(config);
 * loadMixtralSparseMoe(moe, tensors, 'model.layers.0.block_sparse_moe.');
 * ```
 */
export async function loadHfCheckpoint(directory: string): Promise<LoadedHfCheckpoint> {
  const where = 'loadHfCheckpoint';
  if (typeof directory !== 'string' || directory === '') throw new MoEArgumentError(where, 'directory', 'a non-empty folder path', String(directory));
  const config = await readJsonObject(where, path.join(directory, CONFIG), CONFIG);
  const single = await fs.lstat(path.join(directory, WEIGHTS)).then(
    () => true,
    (error: unknown) => (errorCode(error) === 'ENOENT' ? false : Promise.reject(error)),
  );
  if (single) return { tensors: decodeSafetensors(await readRegular(where, path.join(directory, WEIGHTS), WEIGHTS)).tensors, config };
  const indexed = await fs.lstat(path.join(directory, INDEX)).then(
    () => true,
    () => false,
  );
  if (!indexed) throw new MoEArgumentError(where, 'directory', `a folder holding ${WEIGHTS} or ${INDEX}`, `neither in ${directory}`);
  const tensors = new Map<string, tf.Tensor>();
  try {
    for (const [shard, names] of await readIndex(where, directory)) {
      const bytes = await readRegular(where, path.join(directory, shard), `the shard ${shard}`);
      let decoded: Map<string, tf.Tensor>;
      try {
        decoded = decodeSafetensors(bytes, { names }).tensors;
      } catch (error) {
        if (error instanceof MoEArgumentError && error.argument === 'options.names') {
          throw new MoEArgumentError(where, `${INDEX}.weight_map`, `tensors that ${shard} holds`, error.actual);
        }
        throw error;
      }
      for (const [name, tensor] of decoded) tensors.set(name, tensor);
    }
  } catch (error) {
    tf.dispose([...tensors.values()]);
    throw error;
  }
  return { tensors, config };
}
