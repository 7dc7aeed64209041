// Removing what saves leave behind in a model folder: the weights the committed model.json no
// longer names, and the files of saves that died. Internal: not exported from the package index.
import { errorCode, type NodeFiles } from './node-files.js';
import { ownerEnded, ownerOf, type FileOwner } from './file-owner.js';

/** Deletes `file`, ignoring one already gone. */
export async function removeIfPresent(fs: NodeFiles['fs'], file: string): Promise<void> {
  try {
    await fs.unlink(file);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}

/**
 * Removes from `folder` the files saves create (`weights-….bin`, `.model-….json.tmp`) that
 * `committed()` does not name and that no save at work can still commit: this thread's own (the
 * caller holds the folder's lock, so none of its saves is in flight) and those of processes on this
 * host that have ended. The owners are judged before `committed()` reads model.json, so a writer
 * that commits and then dies in between is seen committed. Files of live processes, other threads
 * and other hosts are left to their writers.
 */
export async function removeStaleFiles(
  { fs, path }: NodeFiles,
  folder: string,
  self: FileOwner,
  committed: () => Promise<Set<string> | undefined>,
): Promise<void> {
  const stale = (await fs.readdir(folder)).filter((name) => {
    const owner = ownerOf(name);
    return owner !== undefined && ((owner.host === self.host && owner.pid === self.pid && owner.thread === self.thread) || ownerEnded(owner, self));
  });
  if (stale.length === 0) return;
  const keep = await committed();
  if (keep === undefined) return; // model.json unreadable: delete nothing
  for (const name of stale) if (!keep.has(name)) await removeIfPresent(fs, path.join(folder, name));
}
