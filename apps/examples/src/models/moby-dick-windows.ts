/** Word-level Moby-Dick as next-word windows for the language-model examples and the Shazeer reproduction. */
import * as tf from '@tensorflow/tfjs';
import { loadMobyDickText } from '@moekit/datasets';

/** Options of {@link mobyDickWindows}. */
export interface MobyDickWindowsOptions {
  /** Words kept (most frequent first, id 0 is `<unk>` for the rest). */
  vocabSize: number;
  /** Tokens per window. */
  sequenceLength: number;
  /** Training windows, taken from the start of the book. */
  trainWindows: number;
  /** Validation windows, taken from the last tenth of the book (never overlapping training). */
  validWindows: number;
}

/** One split: inputs `[N, S]` (float ids, as `tf.layers.embedding` takes) and next-word targets `[N, S, 1]`. */
export interface WindowSplit {
  /** Input word ids `[N, S]`. */
  x: tf.Tensor2D;
  /** Next-word ids `[N, S, 1]`. */
  y: tf.Tensor3D;
}

/** Lower-cased words and punctuation of the book. */
export function mobyDickWords(): string[] {
  return loadMobyDickText().toLowerCase().match(/[a-z]+(?:'[a-z]+)?|[.,;:!?]/g) ?? [];
}

/** The `vocabSize − 1` most frequent of `words` (ties alphabetically), mapped to ids 1…; id 0 is `<unk>`. */
function vocabularyOf(words: readonly string[], vocabSize: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  const vocab = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, vocabSize - 1).map(([w]) => w);
  return new Map(vocab.map((w, i) => [w, i + 1]));
}

/** `count` non-overlapping windows of `S` ids from `start` (targets shifted by one word) as tensors. */
export function windowsOf(ids: ArrayLike<number>, S: number, start = 0, count = Math.floor((ids.length - start - 1) / S)): WindowSplit {
  if (start + count * S + 1 > ids.length) throw new RangeError(`windowsOf: ${count} windows of ${S} from word ${start} exceed the ${ids.length} words`);
  const xs = new Float32Array(count * S); // [N·S]
  const ys = new Float32Array(count * S); // [N·S]
  for (let n = 0; n < count; n++) {
    for (let t = 0; t < S; t++) {
      xs[n * S + t] = ids[start + n * S + t]!;
      ys[n * S + t] = ids[start + n * S + t + 1]!;
    }
  }
  return { x: tf.tensor2d(xs, [count, S]), y: tf.tensor3d(ys, [count, S, 1]) };
}

/** Non-overlapping windows of the book as training and validation tensors. */
export function mobyDickWindows(o: MobyDickWindowsOptions): { vocabSize: number; train: WindowSplit; valid: WindowSplit; dispose(): void } {
  const words = mobyDickWords();
  const index = vocabularyOf(words, o.vocabSize);
  const ids = words.map((w) => index.get(w) ?? 0);
  const train = windowsOf(ids, o.sequenceLength, 0, o.trainWindows);
  const valid = windowsOf(ids, o.sequenceLength, Math.floor(ids.length * 0.9), o.validWindows);
  return { vocabSize: o.vocabSize, train, valid, dispose: () => tf.dispose([train.x, train.y, valid.x, valid.y]) };
}

/** The whole book as word ids: the first nine tenths for training, the last tenth held out. */
export interface MobyDickCorpus {
  /** Vocabulary size `V` (id 0 is `<unk>`). */
  vocabSize: number;
  /** Word ids of the training text (the book's first nine tenths). */
  train: Int32Array;
  /** Word ids of the held-out text (the last tenth). */
  valid: Int32Array;
}

/** Splits the whole book 90 / 10 and maps words to the `vocabSize − 1` most frequent of the training text (the rest `<unk>`). */
export function mobyDickCorpus(vocabSize: number): MobyDickCorpus {
  const words = mobyDickWords();
  const cut = Math.floor(words.length * 0.9);
  const index = vocabularyOf(words.slice(0, cut), vocabSize);
  const ids = Int32Array.from(words, (w) => index.get(w) ?? 0);
  return { vocabSize, train: ids.subarray(0, cut), valid: ids.subarray(cut) };
}
