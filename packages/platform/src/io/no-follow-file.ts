// Files in a model folder that anyone else may write into: created only new (exclusively, never
// through a link) and read only when they are regular files, so a planted symbolic link can neither
// redirect a save nor feed a load. Internal: not exported from the package index.
import { MoEArgumentError } from '@moekit/core';
import { errorCode, type NodeFiles } from './node-files.js';

/** The error for a model-folder entry that is a link (or anything but a regular file). */
export function linkedEntryError(where: string, entry: string, what = 'a symbolic link'): MoEArgumentError {
  return new MoEArgumentError(where, 'directory', 'a folder whose model files are regular files, not links', `${what} at ${entry}`);
}

/** `O_NOFOLLOW` where the platform has it (not on Windows, where `lstat` checks stand alone). */
function noFollow(fs: NodeFiles['fs']): number {
  return fs.constants.O_NOFOLLOW ?? 0;
}

/**
 * Creates `file`, which must not exist (`O_CREAT | O_EXCL`: not even as a link, dangling or not;
 * `O_NOFOLLOW`), writes `data`, flushes it to the disk and closes it. A failure removes the file.
 */
export async function writeNewFile(fs: NodeFiles['fs'], file: string, data: string | Uint8Array): Promise<void> {
  const { O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
  const handle = await fs.open(file, O_WRONLY | O_CREAT | O_EXCL | noFollow(fs), 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.unlink(file).catch(() => undefined);
    throw error;
  }
  await handle.close();
}

/**
 * Reads `file` if it is a regular file; a link (checked with `lstat`, and again by opening with
 * `O_NOFOLLOW`) or anything else is an `MoEArgumentError` from `where`. Node's own errors (`ENOENT`)
 * pass through.
 */
export async function readRegularFile(fs: NodeFiles['fs'], file: string, where: string): Promise<Buffer> {
  const entry = await fs.lstat(file);
  if (entry.isSymbolicLink()) throw linkedEntryError(where, file);
  let handle: Awaited<ReturnType<NodeFiles['fs']['open']>>;
  try {
    handle = await fs.open(file, fs.constants.O_RDONLY | noFollow(fs));
  } catch (error) {
    if (errorCode(error) === 'ELOOP') throw linkedEntryError(where, file);
    throw error;
  }
  try {
    if (!(await handle.stat()).isFile()) throw linkedEntryError(where, file, 'something other than a file');
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Flushes a folder's entries (the renames in it) to the disk; a no-op where folders cannot be opened (Windows). */
export async function syncFolder(fs: NodeFiles['fs'], folder: string): Promise<void> {
  let handle: Awaited<ReturnType<NodeFiles['fs']['open']>> | undefined;
  try {
    handle = await fs.open(folder, 'r');
    await handle.sync();
  } catch {
    // EISDIR / EPERM on Windows: the rename is atomic there too, only its durability is the OS's.
  } finally {
    await handle?.close();
  }
}
