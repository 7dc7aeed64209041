// Imports of packages moekit may use but does not depend on (tfjs-node, the wasm backend, …) and of
// Node built-ins, kept out of reach of bundlers. Internal: not exported from the package index.
import * as tf from '@tensorflow/tfjs-core';

/** What became of an optional import: loaded, not installed, or installed but failing to load. */
export type OptionalImport<T> =
  | { status: 'loaded'; module: T }
  | { status: 'missing' }
  | { status: 'failed'; error: string };

/** True in Node (tfjs's own `IS_NODE` flag), where the Node-only code paths apply. */
export function isNode(): boolean {
  return tf.env().getBool('IS_NODE');
}

/** The first line of an error's message, for a one-line report. */
export function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/**
 * `import(specifier)` behind a computed specifier, so that TypeScript does not demand the types of
 * packages that may be absent and bundlers leave Node built-ins alone.
 */
export function dynamicImport<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

/**
 * Imports `specifier` if it is installed. In Node, "installed" is decided by resolving it first
 * (`require.resolve` from this file), so a package that is present but fails to load (a missing
 * native binding, say) reports `failed` with its error rather than passing for absent.
 */
export async function importOptional<T>(specifier: string): Promise<OptionalImport<T>> {
  if (isNode()) {
    const { createRequire } = await dynamicImport<typeof import('node:module')>('node:module');
    try {
      createRequire(import.meta.url).resolve(specifier);
    } catch (error) {
      if ((error as { code?: string }).code === 'MODULE_NOT_FOUND') return { status: 'missing' };
      return { status: 'failed', error: errorLine(error) };
    }
  }
  try {
    return { status: 'loaded', module: await dynamicImport<T>(specifier) };
  } catch (error) {
    // In a browser the import itself is the only probe: a bare specifier the page cannot resolve.
    if (!isNode() && /resolve|fetch|not found|failed to load/i.test(errorLine(error))) return { status: 'missing' };
    return { status: 'failed', error: errorLine(error) };
  }
}
