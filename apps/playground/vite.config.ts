import { defaultClientConditions, defineConfig } from 'vite';
import { mnistSubsetPlugin } from './vite/mnist-subset-plugin.js';

// The playground's bundle: moekit from its sources (the `@moekit/source` condition), tfjs, and the
// MNIST subset written into dist/ by the plugin. `base: './'` lets dist/ be served from any path.
export default defineConfig({
  base: './',
  resolve: { conditions: ['@moekit/source', ...defaultClientConditions] },
  plugins: [mnistSubsetPlugin({ train: 2000, test: 500 })],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 4096 },
});
