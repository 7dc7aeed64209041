// The Node modules the model-file code uses, loaded at run time so the package still loads in a
// browser. Internal: not exported from the package index.
import * as tf from '@tensorflow/tfjs-core';
import { dynamicImport } from '../backends/optional-import.js';

/** `node:fs/promises`, `node:path`, `node:crypto`, `node:os` and `node:worker_threads`. */
export interface NodeFiles {
  fs: typeof import('node:fs/promises');
  path: typeof import('node:path');
  crypto: typeof import('node:crypto');
  os: typeof import('node:os');
  threads: typeof import('node:worker_threads');
}

/** Loads the Node modules, or says that `fileSystem` needs Node. */
export async function nodeFiles(): Promise<NodeFiles> {
  if (!tf.env().getBool('IS_NODE')) throw new Error('fileSystem: needs Node (use tf.io.browserDownloads or indexeddb:// in a browser)');
  const [fs, path, crypto, os, threads] = await Promise.all([
    dynamicImport<NodeFiles['fs']>('node:fs/promises'),
    dynamicImport<NodeFiles['path']>('node:path'),
    dynamicImport<NodeFiles['crypto']>('node:crypto'),
    dynamicImport<NodeFiles['os']>('node:os'),
    dynamicImport<NodeFiles['threads']>('node:worker_threads'),
  ]);
  return { fs, path, crypto, os, threads };
}

/** The `code` of a Node system error (`'ENOENT'`, `'ELOOP'`, …), or undefined. */
export function errorCode(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}
