import * as tf from '@tensorflow/tfjs';
import { TopKRouter } from '@moekit/router-topk';
import { describe, expect, it } from 'vitest';
import { lstmMoELanguageModel } from './lstm-moe-language-model.js';

// A tiny corpus with structure an LSTM can learn: repeated sentences over a 12-word vocabulary.
const sentences = ['the cat sat on the mat', 'a dog ran to the park', 'the bird sang on a tree'];
function corpus(sequenceLength: number) {
  const words = Array.from({ length: 20 }, (_, i) => sentences[i % 3]!.split(' ')).flat();
  const vocab = [...new Set(words)];
  const ids = words.map((w) => vocab.indexOf(w));
  const xs: number[][] = [];
  const ys: number[][] = [];
  for (let i = 0; i + sequenceLength < ids.length; i += 2) {
    xs.push(ids.slice(i, i + sequenceLength));
    ys.push(ids.slice(i + 1, i + sequenceLength + 1));
  }
  return { vocabSize: vocab.length, x: tf.tensor2d(xs, undefined, 'float32'), y: tf.tensor3d(ys.map((r) => r.map((v) => [v]))) };
}

describe('the LSTM-MoE language model (Shazeer 2017 §5.1)', () => {
  it('trains with fit: perplexity falls and every expert takes tokens', async () => {
    await tf.setBackend('cpu');
    const sequenceLength = 8;
    const { vocabSize, x, y } = corpus(sequenceLength);
    const { model, moe } = lstmMoELanguageModel({ vocabSize, sequenceLength, dim: 16, hidden: 32, router: new TopKRouter({ numExperts: 4, k: 2, seed: 1, importanceWeight: 0.1, loadWeight: 0.1 }), seed: 2 });
    expect(model.outputShape).toEqual([null, sequenceLength, vocabSize]);
    const history = await model.fit(x, y, { epochs: 12, batchSize: 16, verbose: 0 });
    const losses = history.history['loss'] as number[];
    // perplexity = exp(cross-entropy): from about the vocabulary size towards the corpus' few continuations
    expect(Math.exp(losses[losses.length - 1]!)).toBeLessThan(Math.exp(losses[0]!) / 2);
    expect(moe.lastMetrics!.load.every((l) => l > 0)).toBe(true);
    // evaluation is dropless by default (Shazeer's MoE has no capacity limit): every (token, expert) pair is kept
    tf.dispose(model.predict(x, { batchSize: x.shape[0] })); // one batch, so lastMetrics covers every token
    expect(moe.lastMetrics!.droppedCount).toBe(0);
    expect(moe.lastMetrics!.load.reduce((a, b) => a + b, 0)).toBe(x.size * 2); // B·S tokens × k = 2
    tf.dispose([x, y]);
    model.dispose();
  }, 120_000);
});
