/**
 * `@moekit/experts-hash-nerf/node`: the Node-only file writing, kept out of the browser-safe main entry.
 *
 * @packageDocumentation
 */
export { writePng } from './write-png.js';
