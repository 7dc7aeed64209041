// One save at a time per model folder within a process. Internal: not exported from the package index.

/**
 * The tail of each folder's queue, shared through a global symbol so that two copies of this
 * package loaded in one process (a bundle and the source, say) still queue together.
 */
const queues: Map<string, Promise<void>> = ((globalThis as Record<symbol, unknown>)[Symbol.for('@moekit/platform.fileSystem.queues')] ??= new Map()) as Map<string, Promise<void>>;

/**
 * Runs `task` after every task queued before it under `folder` has settled, so that
 * saves into one folder from one thread run in the order they were called.
 */
export async function withFolderLock<T>(folder: string, task: () => Promise<T>): Promise<T> {
  const before = queues.get(folder) ?? Promise.resolve();
  const run = before.then(task);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(folder, tail);
  try {
    return await run;
  } finally {
    if (queues.get(folder) === tail) queues.delete(folder);
  }
}
