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

/** Non-overlapping windows of the book as training and validation tensors. */
export function mobyDickWindows(o: MobyDickWindowsOptions): { vocabSize: number; train: WindowSplit; valid: WindowSplit; dispose(): void } {
  const words = mobyDickWords();
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  const vocab = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, o.vocabSize - 1).map(([w]) => w);
  const index = new Map(vocab.map((w, i) => [w, i + 1]));
  const ids = words.map((w) => index.get(w) ?? 0);
  const split = (start: number, count: number): WindowSplit => {
    const S = o.sequenceLength;
    if (start + count * S + 1 > ids.length) throw new RangeError(`mobyDickWindows: ${count} windows of ${S} from word ${start} exceed the book's ${ids.length} words`);
    const xs = new Float32Array(count * S);
    const ys = new Float32Array(count * S);
    for (let n = 0; n < count; n++) {
      for (let t = 0; t < S; t++) {
        xs[n * S + t] = ids[start + n * S + t]!;
        ys[n * S + t] = ids[start + n * S + t + 1]!;
      }
    }
    return { x: tf.tensor2d(xs, [count, S]), y: tf.tensor3d(ys, [count, S, 1]) };
  };
  const train = split(0, o.trainWindows);
  const valid = split(Math.floor(ids.length * 0.9), o.validWindows);
  return { vocabSize: o.vocabSize, train, valid, dispose: () => tf.dispose([train.x, train.y, valid.x, valid.y]) };
}
