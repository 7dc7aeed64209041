/**
 * Real datasets that npm ships, for moekit's tests and examples (Node only; nothing is downloaded).
 *
 * @packageDocumentation
 */
export { loadMnist } from './mnist.js';
export type { LoadMnistArgs, MnistSlice, MnistSplit } from './mnist.js';
export { loadMobyDickChapters, loadMobyDickText } from './moby-dick.js';
export type { MobyDickChapter } from './moby-dick.js';
