import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes PNG bytes (from `encodePng` or `gateDecompositionImage` of the main entry) to `path`, creating its directory.
 * Node only: import it from `@moekit/experts-hash-nerf/node`.
 *
 * @example
 * ```ts
 * import { gateDecompositionImage } from '@moekit/experts-hash-nerf';
 * import { writePng } from '@moekit/experts-hash-nerf/node';
 *
 * writePng('out/decomposition.png', gateDecompositionImage(gate).png);
 * ```
 */
export function writePng(path: string, png: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, png);
}
