// The playground's MNIST asset: a few thousand images as raw uint8, written at build time (see
// vite/mnist-subset-plugin.ts) and read by the page. One small binary file beside the page, so nothing is
// fetched from elsewhere at run time.
//
// Layout (little-endian): magic "MNS1", uint32 trainCount, uint32 testCount, then train pixels
// [trainCount·784] uint8, train labels [trainCount] uint8, test pixels [testCount·784], test labels.

/** Pixels per image (28 × 28). */
export const MNIST_PIXELS = 784;
const MAGIC = 'MNS1';
const HEADER_BYTES = 12;

/** One split of the subset: raw pixels (0–255) image after image, and the digit of each image. */
export interface MnistSubsetSplit {
  /** `[count · 784]` pixels, row-major. */
  pixels: Uint8Array;
  /** `[count]` digits 0–9. */
  labels: Uint8Array;
  /** Number of images. */
  count: number;
}

/** The train and test images the playground trains and evaluates on. */
export interface MnistSubset {
  train: MnistSubsetSplit;
  test: MnistSubsetSplit;
}

function checkSplit(name: string, split: MnistSubsetSplit): void {
  if (split.pixels.length !== split.count * MNIST_PIXELS || split.labels.length !== split.count) {
    throw new Error(`encodeMnistSubset: ${name} has ${split.count} images but ${split.pixels.length} pixels and ${split.labels.length} labels (expected ${split.count * MNIST_PIXELS} and ${split.count})`);
  }
}

/** Packs a subset into the asset's bytes. */
export function encodeMnistSubset(subset: MnistSubset): Uint8Array {
  checkSplit('train', subset.train);
  checkSplit('test', subset.test);
  const { train, test } = subset;
  const bytes = new Uint8Array(HEADER_BYTES + (train.count + test.count) * (MNIST_PIXELS + 1));
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) bytes[i] = MAGIC.charCodeAt(i);
  view.setUint32(4, train.count, true);
  view.setUint32(8, test.count, true);
  let at = HEADER_BYTES;
  for (const part of [train.pixels, train.labels, test.pixels, test.labels]) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/** Reads the asset's bytes back; a wrong magic or length is an error saying what was expected. */
export function decodeMnistSubset(buffer: ArrayBuffer | Uint8Array): MnistSubset {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < HEADER_BYTES || magic !== MAGIC) {
    throw new Error(`decodeMnistSubset: expected an asset starting with "${MAGIC}", got ${bytes.length} bytes starting with ${JSON.stringify(magic)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const trainCount = view.getUint32(4, true);
  const testCount = view.getUint32(8, true);
  const expected = HEADER_BYTES + (trainCount + testCount) * (MNIST_PIXELS + 1);
  if (bytes.length !== expected) {
    throw new Error(`decodeMnistSubset: ${trainCount} train and ${testCount} test images need ${expected} bytes, got ${bytes.length}`);
  }
  let at = HEADER_BYTES;
  const take = (n: number): Uint8Array => bytes.slice(at, (at += n));
  const train = { pixels: take(trainCount * MNIST_PIXELS), labels: take(trainCount), count: trainCount };
  const test = { pixels: take(testCount * MNIST_PIXELS), labels: take(testCount), count: testCount };
  return { train, test };
}
