/**
 * `@moekit/experts-hash-nerf/node`: the Node-only file writing, kept out of the browser-safe main entry.
 *
 * @module @moekit/experts-hash-nerf/node
 */
export { writePng } from './write-png.js';
