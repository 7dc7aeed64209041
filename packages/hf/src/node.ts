/**
 * `@moekit/hf/node`: Hugging Face checkpoint folders on disk (Node only), kept out of the
 * browser-safe main entry.
 *
 * @module @moekit/hf/node
 */
export { loadHfCheckpoint, saveHfCheckpoint, type HfCheckpoint, type LoadedHfCheckpoint, type SaveHfCheckpointOptions } from './hf-checkpoint-files.js';
