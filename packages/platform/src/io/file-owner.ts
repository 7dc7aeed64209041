// Who wrote a model-folder file: every file a save creates carries its writer (host, process,
// thread) and a random part in its name, so no two saves ever create the same name, no one can
// predict it, and a later save can tell the leftovers of a writer that died from the files of one
// still at work. Internal: not exported from the package index.
import type { NodeFiles } from './node-files.js';

/** The writer of a file: a hash of the host name, the process id and the worker thread id. */
export interface FileOwner {
  host: string;
  pid: number;
  thread: number;
}

/** What a save writes: its weights, and its `model.json` before the rename that commits it. */
export type OwnedFileKind = 'weights' | 'model';

const OWNED = /^(?:weights|\.model)-([0-9a-f]{8})-(\d+)-(\d+)-[0-9a-f]{32}\.(?:bin|json\.tmp)$/;

/** This thread's identity. */
export function currentOwner({ crypto, os, threads }: NodeFiles): FileOwner {
  return { host: crypto.createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8), pid: process.pid, thread: threads.threadId };
}

/** A new name for `kind` owned by `owner`: `weights-<host>-<pid>-<thread>-<128 random bits>.bin`, or `.model-….json.tmp`. */
export function ownedFileName({ crypto }: NodeFiles, owner: FileOwner, kind: OwnedFileKind): string {
  const stem = `${owner.host}-${owner.pid}-${owner.thread}-${crypto.randomBytes(16).toString('hex')}`;
  return kind === 'weights' ? `weights-${stem}.bin` : `.model-${stem}.json.tmp`;
}

/** The owner a folder entry's name records, or undefined for a name no save of this format creates. */
export function ownerOf(name: string): FileOwner | undefined {
  const match = OWNED.exec(name);
  return match ? { host: match[1]!, pid: Number(match[2]), thread: Number(match[3]) } : undefined;
}

/** Whether the weights file `name` is one a save writes (this format's, or the first format's `weights.bin`). */
export function isSavedWeightsName(name: string): boolean {
  return name === 'weights.bin' || (name.startsWith('weights-') && ownerOf(name) !== undefined);
}

/**
 * True when `owner`'s files can no longer change: its process on this host has ended (a pid now in
 * use by another process counts as alive, which only delays the clean-up). Files of other hosts
 * (a shared folder) are never judged.
 */
export function ownerEnded(owner: FileOwner, self: FileOwner): boolean {
  if (owner.host !== self.host || owner.pid === self.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as { code?: string }).code === 'ESRCH';
  }
}
