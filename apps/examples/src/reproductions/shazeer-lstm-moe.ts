/**
 * Shazeer et al. 2017 (arXiv:1701.06538), Table 1 / Fig. 2-left: at equal active compute per token, the
 * LSTM-MoE language model reaches a lower perplexity than the dense LSTM, and more experts help; the MoE
 * adds capacity without adding compute. Two tasks, each over several seeds:
 * - word-level Moby-Dick (the whole book, one pass), the paper's model (Appendix C.1: dropout, residuals,
 *   noisy top-k gating with the importance and load losses, a dropless MoE) against a dense LSTM whose
 *   FFN has width k·H, and a unigram model of the same training text;
 * - memorising random key → value pairs, where capacity is the bottleneck by construction.
 */
import * as tf from '@tensorflow/tfjs';
import { MoELayer } from '@moekit/layers';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { TopKRouter } from '@moekit/router-topk';
import { cpus, loadavg } from 'node:os';
import { keyValueModel, keyValuePairs } from '../models/key-value-memory.js';
import { lstmDenseLanguageModel } from '../models/lstm-dense-language-model.js';
import { lstmMoELanguageModel } from '../models/lstm-moe-language-model.js';
import { mobyDickCorpus, windowsOf } from '../models/moby-dick-windows.js';
import { evaluateRouted, type RoutedEvaluation } from '../models/routed-evaluation.js';
import { runStamp } from '../run-stamp.js';
import { compareMeans, formatMeanSd, loadHealth, meanSd } from '../stats/seed-statistics.js';
import { mulberry32 } from '../models/mulberry32.js';

const K = 2; // experts per token
const ROUTER_WEIGHT = 0.1; // w_importance = w_load = 0.1 (Appendix C.1)

/** One trained model of one seed: its headline number, evaluation routing health, size and time. */
interface Trial {
  value: number;
  evaluation: RoutedEvaluation;
  parameters: number;
  active: number;
  seconds: number;
}

/** A model of the comparison: `E = 0` is the dense baseline. */
interface Arm {
  name: string;
  experts: number;
  trials: Trial[];
}

/** Parameters of the `E` experts `D → H → D` that `FeedForwardExperts` holds (W1, b1, W2, b2 each). */
const expertParameters = (E: number, D: number, H: number) => E * (2 * D * H + H + D);

/** Parameters a token does not use: the `E − k` unchosen experts and the gate's noise kernel `W_noise` `[D, E]` (training only). */
const inactiveParameters = (E: number, D: number, H: number) => (E === 0 ? 0 : expertParameters(E - K, D, H) + D * E);

async function fitAndEvaluate(model: tf.LayersModel, moe: MoELayer | undefined, train: { x: tf.Tensor; y: tf.Tensor }, test: { x: tf.Tensor; y: tf.Tensor }, fit: { epochs: number; batchSize: number }) {
  const started = performance.now();
  await model.fit(train.x, train.y, { epochs: fit.epochs, batchSize: fit.batchSize, shuffle: true, verbose: 0 });
  const seconds = (performance.now() - started) / 1000;
  const evaluation = evaluateRouted(model, test.x, test.y, { batchSize: 256, ...(moe ? { moe } : {}) });
  const parameters = model.countParams();
  model.optimizer.dispose(); // compile() was given the optimizer, so dispose() leaves it (and its slots) alive
  model.dispose();
  return { evaluation, seconds, parameters };
}

/** `mean ± sd` of the arm's routing health at evaluation: load CV, dead experts, dropped fraction. */
function healthCells(arm: Arm): string[] {
  if (arm.experts === 0) return ['–', '–', '–', '–'];
  const health = arm.trials.map((t) => loadHealth(t.evaluation.load));
  const shares = health[0]!.shares.map((_, i) => meanSd(health.map((h) => h.shares[i]!)).mean);
  const sorted = [...shares].sort((a, b) => b - a);
  return [
    formatMeanSd(health.map((h) => h.cv), 2),
    formatMeanSd(health.map((h) => h.dead), 1),
    formatMeanSd(arm.trials.map((t) => t.evaluation.droppedFraction), 3),
    `${sorted.slice(0, 3).map((s) => s.toFixed(2)).join(' ')} … ${sorted[sorted.length - 1]!.toFixed(3)}`,
  ];
}

/** The verdict clause of one task: does every MoE beat dense, and does the largest beat the smallest? */
function judge(arms: Arm[], better: 'lower' | 'higher', what: string): { holds: boolean; text: string } {
  const values = (a: Arm) => a.trials.map((t) => t.value);
  const sign = better === 'lower' ? -1 : 1;
  const wins = (a: Arm, b: Arm) => { const d = compareMeans(values(a), values(b)); return d.significant && sign * d.diff > 0; };
  const dense = arms[0]!;
  const moes = arms.slice(1);
  const beat = moes.filter((a) => wins(a, dense)).map((a) => a.experts);
  const lost = moes.filter((a) => wins(dense, a)).map((a) => a.experts);
  const small = moes[0]!;
  const large = moes[moes.length - 1]!;
  const more = wins(large, small);
  const fewer = wins(small, large);
  const d = compareMeans(values(large), values(small));
  const text = `${what}: ${beat.length === moes.length ? 'every MoE beats' : beat.length === 0 ? 'no MoE beats' : `only E = ${beat.join(', ')} beat${beat.length === 1 ? 's' : ''}`} the dense model of equal active compute${lost.length > 0 ? ` (dense beats E = ${lost.join(', ')})` : ''}, and E = ${large.experts} ${more ? 'beats' : fewer ? 'is worse than' : 'does not differ from'} E = ${small.experts} (difference ${d.diff.toFixed(3)}, two standard errors ${(2 * d.se).toFixed(3)})`;
  return { holds: beat.length === moes.length && more, text };
}

/** `count` distinct indices of `[0, n)` drawn with a seeded generator (mulberry32, partial Fisher–Yates). */
function sampleWithoutReplacement(n: number, count: number, seed: number): number[] {
  const random = mulberry32(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (n - i));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, count);
}

/** Shazeer's noisy top-k router with Appendix C.1's loss weights (moekit's clean load term at its default). */
const paperRouter = (E: number, seed: number) => new TopKRouter({ numExperts: E, k: K, noise: 'shazeer', importanceWeight: ROUTER_WEIGHT, loadWeight: ROUTER_WEIGHT, seed });

/** Runs both tasks and returns the RESULTS.md section. */
export async function run(options: { quick: boolean }): Promise<string> {
  const started = performance.now();
  const startLoad = loadavg()[0]!;
  const seeds = [1, 2, 3];
  const expertCounts = options.quick ? [2, 4] : [4, 16, 32];
  const lm = options.quick
    ? { vocabSize: 100, S: 8, dim: 8, hidden: 8, windowsPerModel: 32, validWindows: 16, epochs: 1, batchSize: 16 }
    : { vocabSize: 1000, S: 16, dim: 32, hidden: 32, windowsPerModel: 5120, validWindows: Infinity, epochs: 1, batchSize: 128 };
  const kv = options.quick
    ? { pairs: 64, dim: 8, hidden: 4, classes: 8, epochs: 2, batchSize: 32, learningRate: 0.02 }
    : { pairs: 512, dim: 16, hidden: 16, classes: 32, epochs: 60, batchSize: 256, learningRate: 0.02 };

  // Task 1: the whole book, training windows from the first nine tenths, validation from the last tenth.
  const corpus = mobyDickCorpus(lm.vocabSize);
  const trainCount = Math.floor((corpus.train.length - 1) / lm.S);
  const validCount = Math.min(lm.validWindows, Math.floor((corpus.valid.length - 1) / lm.S));
  const book = windowsOf(corpus.train, lm.S, 0, trainCount); // every training window of the book
  const valid = windowsOf(corpus.valid, lm.S, 0, validCount);
  // unigram with add-one smoothing over the training tokens, scored on the validation targets
  const counts = new Float64Array(lm.vocabSize);
  for (const id of corpus.train) counts[id]! += 1;
  const total = corpus.train.length;
  let unigramNats = 0;
  for (let i = 0; i < validCount * lm.S; i++) unigramNats -= Math.log((counts[corpus.valid[i + 1]!]! + 1) / (total + lm.vocabSize)); // the validation targets
  const unigram = Math.exp(unigramNats / (validCount * lm.S));
  const lmArms: Arm[] = [{ name: `dense LSTM, FFN width k·H = ${K * lm.hidden}`, experts: 0, trials: [] }, ...expertCounts.map((E) => ({ name: `LSTM-MoE, E = ${E}, k = ${K}, H = ${lm.hidden}`, experts: E, trials: [] }))];
  for (const seed of seeds) {
    // each seed's models see the same random draw of windows from the whole training text, once
    const picked = tf.tensor1d(sampleWithoutReplacement(trainCount, Math.min(lm.windowsPerModel, trainCount), seed), 'int32');
    const train = { x: tf.gather(book.x, picked), y: tf.gather(book.y, picked) };
    picked.dispose();
    for (const arm of lmArms) {
      const common = { vocabSize: lm.vocabSize, sequenceLength: lm.S, dim: lm.dim, seed };
      let model: tf.LayersModel;
      let moe: MoELayer | undefined;
      if (arm.experts === 0) model = lstmDenseLanguageModel({ ...common, hidden: K * lm.hidden });
      else ({ model, moe } = lstmMoELanguageModel({ ...common, hidden: lm.hidden, router: paperRouter(arm.experts, 100 * seed + arm.experts) }));
      const r = await fitAndEvaluate(model, moe, train, valid, lm);
      const inactive = inactiveParameters(arm.experts, lm.dim, lm.hidden);
      arm.trials.push({ value: Math.exp(r.evaluation.crossEntropy), evaluation: r.evaluation, parameters: r.parameters, active: r.parameters - lm.vocabSize * lm.dim - inactive, seconds: r.seconds });
    }
    tf.dispose([train.x, train.y]);
  }
  tf.dispose([book.x, book.y, valid.x, valid.y]);

  // Task 2: memorise random key → value pairs (evaluated on the pairs themselves: what was stored).
  const kvArms: Arm[] = [{ name: `dense FFN, width k·H = ${K * kv.hidden}`, experts: 0, trials: [] }, ...expertCounts.map((E) => ({ name: `MoE, E = ${E}, k = ${K}, H = ${kv.hidden}`, experts: E, trials: [] }))];
  for (const seed of seeds) {
    const pairs = keyValuePairs({ pairs: kv.pairs, dim: kv.dim, classes: kv.classes, seed: 1000 * seed });
    for (const arm of kvArms) {
      let moe: MoELayer | undefined;
      const model = keyValueModel({ dim: kv.dim, classes: kv.classes, learningRate: kv.learningRate, seed }, (h) => {
        if (arm.experts === 0) {
          const hidden = tf.layers.dense({ units: K * kv.hidden, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 7 }) }).apply(h); // [B, kH]
          return tf.layers.dense({ units: kv.dim, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 8 }) }).apply(hidden) as tf.SymbolicTensor; // [B, D]
        }
        moe = new MoELayer({
          router: paperRouter(arm.experts, 100 * seed + arm.experts),
          experts: new FeedForwardExperts({ numExperts: arm.experts, inputDim: kv.dim, hiddenDim: kv.hidden, seed: seed + 1 }),
          capacity: { train: 0, eval: 0 },
        });
        return moe.apply(h) as tf.SymbolicTensor; // [B, D]
      });
      const r = await fitAndEvaluate(model, moe, pairs, pairs, kv);
      const inactive = inactiveParameters(arm.experts, kv.dim, kv.hidden);
      arm.trials.push({ value: r.evaluation.accuracy, evaluation: r.evaluation, parameters: r.parameters, active: r.parameters - inactive, seconds: r.seconds });
    }
    tf.dispose([pairs.x, pairs.y]);
  }

  const lmVerdict = judge(lmArms, 'lower', 'Moby-Dick');
  const kvVerdict = judge(kvArms, 'higher', 'key → value memory');
  const beatsUnigram = lmArms.filter((a) => { const d = compareMeans(a.trials.map((t) => t.value), [unigram]); return d.significant && d.diff < 0; }).length;
  const holds = lmVerdict.holds && kvVerdict.holds;
  const verdict = holds
    ? `holds at this scale: ${lmVerdict.text}; ${kvVerdict.text}.`
    : lmVerdict.holds || kvVerdict.holds
      ? `does not fully hold at this scale: ${lmVerdict.text}; ${kvVerdict.text}.`
      : `does not hold at this scale: ${lmVerdict.text}; ${kvVerdict.text}.`;
  const row = (arm: Arm, value: (t: Trial) => number, digits: number) => {
    const t = arm.trials;
    return `| ${arm.name} | ${formatMeanSd(t.map(value), digits)} | ${t[0]!.parameters} | ${Math.round(t[0]!.active)} | ${healthCells(arm).join(' | ')} | ${meanSd(t.map((x) => x.seconds)).mean.toFixed(1)} s |`;
  };
  const header = (metric: string) => [`| model | ${metric} | parameters | active parameters / token | eval load CV | eval dead experts | eval dropped fraction | eval load shares (top 3 … least) | train time / seed |`, '|---|---:|---:|---:|---:|---:|---:|---|---:|'];
  const minutes = (performance.now() - started) / 60000;
  const load = loadavg(); // [1, 5, 15 min]
  return [
    '## Shazeer et al. 2017: LSTM-MoE vs dense LSTM at equal active compute',
    '',
    `Command: \`npm run reproduce -- shazeer-lstm-moe${options.quick ? ' --quick' : ''}\`; seeds ${seeds.join(', ')} (initialisers, dropout, routers, key → value data); every number is mean ± sample sd over the ${seeds.length} seeds. Both tasks use the paper's MoE (Appendix C.1): noisy top-${K} gating (Eq. 3-5, softmax over the top ${K}), the importance and load losses with w_importance = w_load = ${ROUTER_WEIGHT} (plus moekit's clean load term, Switch's E·Σ f·P over the noise-free top-${K}, weight ${paperRouter(2, 0).config.cleanLoadWeight}: not in the paper), FFN experts D → H → D with ReLU, no capacity limit (dropless in training and evaluation), a residual around the MoE; the dense baseline replaces the MoE by one FFN of width k·H (equal active compute). Adam, constant learning rate (the paper warms up and decays).`,
    '',
    `**Moby-Dick language model.** The whole book, word level, ${lm.vocabSize}-word vocabulary of the training text (the rest <unk>). Training text: the first nine tenths of the book, ${trainCount} windows of ${lm.S} words (${corpus.train.length} tokens); each model trains on ${Math.min(lm.windowsPerModel, trainCount)} of them drawn at random per seed from the whole training text, seen ${lm.epochs === 1 ? 'once (no window repeats, as the paper trains on 10^9 words)' : `${lm.epochs} times`}, batch ${lm.batchSize} (${Math.ceil(Math.min(lm.windowsPerModel, trainCount) / lm.batchSize) * lm.epochs} steps: what the time budget allows); validation on all ${validCount} windows of the held-out last tenth (${validCount * lm.S} tokens). Embedding → LSTM → MoE → LSTM → softmax, D = ${lm.dim}, dropout ${0.1} on each layer's output followed by a residual connection, Adam 0.01. Validation perplexity after training; active parameters leave out the embedding table (a lookup), the E − k unchosen experts and the gate's noise kernel W_noise (training only), and count the gate W_g. Unigram model of all the training tokens, add-one smoothing: validation perplexity ${unigram.toFixed(2)}.`,
    '',
    ...header('validation perplexity'),
    ...lmArms.map((a) => row(a, (t) => t.value, 2)),
    '',
    `**Key → value memory.** ${kv.pairs} pairs per seed: each key a fixed standard-normal code of width D = ${kv.dim}, each value one of ${kv.classes} classes at random (${kv.pairs} · log2 ${kv.classes} = ${kv.pairs * Math.log2(kv.classes)} bits to store). Key → key + middle(key) → softmax; ${kv.epochs} epochs, batch ${kv.batchSize}, Adam ${kv.learningRate}; accuracy on the stored pairs in evaluation mode (chance ${(1 / kv.classes).toFixed(3)}). Active parameters leave out the E − k unchosen experts and W_noise, and count W_g.`,
    '',
    ...header('memorised fraction'),
    ...kvArms.map((a) => row(a, (t) => t.value, 4)),
    '',
    `Differs from the paper: D = ${lm.dim} and H = ${lm.hidden} instead of 512 and 1024, k = ${K} instead of 4, E up to ${expertCounts[expertCounts.length - 1]} instead of 4 to 131072 (flat and hierarchical), ${Math.min(lm.windowsPerModel, trainCount) * lm.S} training tokens per model instead of the 1-billion-word benchmark (Table 1), a constant learning rate without warm-up, one machine, no model parallelism.`,
    '',
    `Verdict rule: a difference counts when it exceeds two standard errors of the difference of the means (Welch, ${seeds.length} seeds each). ${beatsUnigram} of ${lmArms.length} language models beat the unigram model by that rule. The whole run took ${minutes.toFixed(1)} min${load[0]! > cpus().length ? `, on a machine shared with other jobs (load average ${startLoad.toFixed(1)} at the start and ${load[0]!.toFixed(1)} at the end, on ${cpus().length} cores)` : ''}.`,
    '',
    runStamp(),
    '',
    `Verdict: ${verdict}`,
  ].join('\n');
}
