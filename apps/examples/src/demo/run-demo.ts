/**
 * The flagship demo's work, separate from the command line: trains the MNIST MoE-CNN and the dense CNN
 * of the same active compute, with progress, and measures accuracy, parameters, drops and time.
 */
import * as tf from '@tensorflow/tfjs';
import { GatedRouter, LinearGate, type Router } from '@moekit/core';
import { loadMnist } from '@moekit/datasets';
import { expertClassMatrix, HardConstraintRouter, SoftConstraintRouter, type ExpertClassMatrix } from '@moekit/experts-conv';
import { SwitchRouter } from '@moekit/router-switch';
import { balancedAssignmentRouter, expertChoiceRouter, HashRouter, softMoERouter } from '@moekit/router-balanced';
import { CosineGate, TopKChoice, TopKRouter } from '@moekit/router-topk';
import { MnistDenseCnn, MnistMoECnn, type MnistClassifier } from '../models/mnist-moe-cnn.js';
import { trainMnistClassifier, type TrainStep } from '../models/train-mnist-classifier.js';
import { loadHealth } from '../stats/seed-statistics.js';
import { demoConstraint, type DemoOptions } from './demo-options.js';
import { evaluateTestSet } from './evaluate-test-set.js';
import { ProgressBar, type ProgressStream } from './progress-bar.js';
import { progressStatus, type ProgressState } from './progress-status.js';

/** Filters of the conv gate, the routers' input width. */
const GATE_FILTERS = 16;

/** The progress labels ('MoE-CNN', 'dense CNN') padded to one width, so that their bars line up. */
const LABEL_WIDTH = 9;

/** A model on the test images after one epoch. */
export interface EpochTest {
  /** 0-based epoch. */
  epoch: number;
  /** Test accuracy. */
  accuracy: number;
  /** Mean test cross-entropy (absent in results recorded before it was measured). */
  loss?: number;
  /** Kept (image, expert) pairs per expert on the test images (MoE only). */
  load?: number[];
  /** (Image, expert) pairs dropped by capacity on the test images (MoE only). */
  dropped?: number;
}

/** One model's measurements. */
export interface DemoModelResult {
  /** Every training step. */
  history: TrainStep[];
  /** The test set after each epoch (the routing at evaluation, without noise, beside training's). */
  epochs: EpochTest[];
  /** Test accuracy (after the last epoch). */
  accuracy: number;
  /** Kept (image, expert) pairs per expert on the test images after the last epoch (MoE only). */
  testLoad?: number[];
  /** Trainable parameters. */
  parameters: number;
  /** Parameters one image's forward pass uses. */
  activeParameters: number;
  /** Images dropped by capacity over all training steps (each step counts its batch). */
  trainDropped: number;
  /** (Test image, expert) pairs dropped by capacity. */
  testDropped: number;
  /** Training seconds. */
  seconds: number;
}

/** What the demo measured. */
export interface DemoResult {
  /** The options of the run. */
  options: DemoOptions;
  /** Backend name and reason. */
  backend: string;
  /** Cores and CPU model. */
  machine: string;
  /** ISO date of the run. */
  date: string;
  /** The MoE-CNN's measurements. */
  moe: DemoModelResult;
  /** The dense CNN's measurements. */
  dense: DemoModelResult;
  /** First-choice expert × class counts on the test images. */
  matrix: ExpertClassMatrix;
  /** Test accuracy of every seed run (the first is the one above), when the demo ran more than one seed. */
  seeds?: { seed: number; moe: number; dense: number; moeTrainLoss: number; denseTrainLoss: number; moeLoadCv: number; moeDeadExperts: number }[];
}

/** The router the options describe, over the conv gate's features, wrapped in the constraint when one applies. */
export function demoRouter(o: Pick<DemoOptions, 'router' | 'experts' | 'k' | 'constraint' | 'seed'>): Router {
  const constraint = demoConstraint(o);
  const ownBalance = constraint === 'none'; // with a constraint, the constraint alone balances the load
  const E = o.experts;
  const common = { inputDim: GATE_FILTERS, seed: o.seed };
  let inner: Router;
  switch (o.router) {
    case 'switch':
      inner = new SwitchRouter({ numExperts: E, ...common, ...(ownBalance ? {} : { loadBalancingWeight: 0 }) });
      break;
    case 'cosine': // X-MoE: cosine of a 8-dimensional projection against normalised expert embeddings, over τ
      inner = new GatedRouter({ gate: new CosineGate({ numOutputs: E, routingDim: 8, ...common }), algorithm: new TopKChoice({ numExperts: E, k: o.k, gates: o.k === 1 ? 'softmax' : 'topKSoftmax', loadBalancingWeight: ownBalance ? 0.01 : 0 }) });
      break;
    case 'sigmoid': // DeepSeek-V3: sigmoid gates normalised over the top-k, the selection balanced by a bias (no aux loss)
      inner = new GatedRouter({ gate: new LinearGate({ numOutputs: E, ...common }), algorithm: new TopKChoice({ numExperts: E, k: o.k, gating: 'sigmoid', biasUpdateRate: 1e-3 }) });
      break;
    case 'expert-choice': // each expert takes its top C = c·B/E images of the batch, c = k
      inner = expertChoiceRouter({ numExperts: E, capacityFactor: o.k, ...common });
      break;
    case 'soft-moe': // each expert's S = k·ceil(50/E) slots mix all the images of a batch
      inner = softMoERouter({ numExperts: E, slotsPerExpert: o.k * Math.ceil(50 / E), ...common });
      break;
    case 'base': // an exactly balanced assignment of the batch in training, greedy top-1 at test time
      inner = balancedAssignmentRouter({ numExperts: E, ...common });
      break;
    case 'hash': // a fixed random hash of a SimHash bucket of the gate's features: no learned routing
      inner = new HashRouter({ numExperts: E, hashOf: 'featureBucket', bucketBits: 8, ...common });
      break;
    default:
      inner = new TopKRouter({
        numExperts: E, k: o.k, noise: 'shazeer', kernelInitializer: 'glorotUniform', ...common,
        gates: o.k === 1 ? 'softmax' : 'topKSoftmax', // k = 1: Softmax(KeepTopK) is constantly 1 and the router would get no gradient
        ...(ownBalance ? {} : { importanceWeight: 0, loadWeight: 0 }),
      });
  }
  if (constraint === 'soft') return new SoftConstraintRouter({ router: inner, loss: 'klUniform', weight: 1 });
  if (constraint === 'hard') return new HardConstraintRouter({ router: inner, mode: 'relative', threshold: 0.1 });
  return inner;
}

function train(name: string, model: MnistClassifier, data: ReturnType<typeof loadMnist>, test: ReturnType<typeof loadMnist>, o: DemoOptions, stream: ProgressStream, onEpochStart?: (epoch: number) => void) {
  const history: TrainStep[] = [];
  const epochs: EpochTest[] = [];
  const batchesPerEpoch = Math.floor(data.count / 50);
  const progress = new ProgressBar(stream, name, o.epochs * batchesPerEpoch, LABEL_WIDTH);
  let epochLoss = 0;
  let epochCorrect = 0;
  let epochLoad: number[] = [];
  const seconds = trainMnistClassifier(model, data, {
    epochs: o.epochs,
    batchSize: 50,
    ...(onEpochStart ? { onEpochStart } : {}),
    onStep: (s) => {
      history.push(s);
      if (s.batch === 0) { epochLoss = 0; epochCorrect = 0; epochLoad = []; }
      epochLoss += s.loss;
      epochCorrect += s.accuracy;
      if (s.load) epochLoad = s.load.map((l, e) => l + (epochLoad[e] ?? 0));
      const n = s.batch + 1;
      let testState: ProgressState['test'];
      if (n === s.batchesPerEpoch) { // the epoch's end: the test images, routed as at evaluation (no noise)
        const t = evaluateTestSet(model, test);
        epochs.push({ epoch: s.epoch, accuracy: t.accuracy, loss: t.loss, ...(t.load ? { load: t.load, dropped: t.dropped } : {}) });
        testState = { accuracy: t.accuracy, ...(t.load ? { load: t.load, dropped: t.dropped } : {}) };
      }
      const status = progressStatus({ epoch: s.epoch + 1, epochs: o.epochs, loss: epochLoss / n, accuracy: epochCorrect / n, ...(s.load ? { load: epochLoad } : {}), ...(testState ? { test: testState } : {}) });
      progress.update(s.epoch * s.batchesPerEpoch + n, status, n === s.batchesPerEpoch);
    },
  });
  progress.finish();
  return { history, epochs, seconds };
}

/** One seed's run of both models. */
function runSeed(o: DemoOptions, trainData: ReturnType<typeof loadMnist>, testData: ReturnType<typeof loadMnist>, stream: ProgressStream) {
  const router = demoRouter(o);
  const moe = new MnistMoECnn({ router, capacityFactor: o.capacityFactor, evalCapacityFactor: o.evalCapacityFactor, gateFilters: GATE_FILTERS, seed: o.seed });
  const dense = new MnistDenseCnn({ paths: o.k, seed: o.seed });
  const moeRun = train('MoE-CNN', moe, trainData, testData, o, stream, (epoch) => { if (router instanceof SoftConstraintRouter) router.setEpoch(epoch); });
  const denseRun = train('dense CNN', dense, trainData, testData, o, stream);
  const moeTest = moeRun.epochs[moeRun.epochs.length - 1]!;
  const denseTest = denseRun.epochs[denseRun.epochs.length - 1]!;
  const images = tf.tensor4d(testData.images, [testData.count, 28, 28, 1]);
  const matrix = expertClassMatrix((x) => moe.assign(x), { images, labels: testData.labels }, { numExperts: o.experts, numClasses: 10, batchSize: 250 });
  images.dispose();
  const result = {
    moe: {
      history: moeRun.history, epochs: moeRun.epochs, seconds: moeRun.seconds, accuracy: moeTest.accuracy, testLoad: moeTest.load!, testDropped: moeTest.dropped ?? 0,
      trainDropped: moeRun.history.reduce((a, s) => a + (s.dropped ?? 0), 0),
      parameters: moe.parameterCount(), activeParameters: moe.activeParameterCount(),
    },
    dense: {
      history: denseRun.history, epochs: denseRun.epochs, seconds: denseRun.seconds, accuracy: denseTest.accuracy, testDropped: 0, trainDropped: 0,
      parameters: dense.parameterCount(), activeParameters: dense.activeParameterCount(),
    },
    matrix,
  };
  moe.dispose();
  dense.dispose();
  return result;
}

/** Trains both models as `o` says (for `o.seeds` seeds from `o.seed`), writing progress to `stream`; curves and matrix from the first seed. */
export function runDemo(o: DemoOptions, backend: string, machine: string, stream: ProgressStream): DemoResult {
  const trainData = loadMnist({ split: 'train', count: o.trainSize });
  const testData = loadMnist({ split: 'test', count: o.testSize });
  const runs = Array.from({ length: o.seeds }, (_, i) => {
    if (o.seeds > 1) stream.write(`seed ${o.seed + i} (${i + 1} of ${o.seeds})\n`);
    return runSeed({ ...o, seed: o.seed + i }, trainData, testData, stream);
  });
  const first = runs[0]!;
  return {
    options: o,
    backend,
    machine,
    date: new Date().toISOString(),
    ...first,
    ...(o.seeds > 1 ? { seeds: runs.map((r, i) => ({ seed: o.seed + i, moe: r.moe.accuracy, dense: r.dense.accuracy, moeTrainLoss: lastEpochLoss(r.moe.history), denseTrainLoss: lastEpochLoss(r.dense.history), ...testHealth(r.moe.testLoad) })) } : {}),
  };
}

/** Mean training cross-entropy over the last epoch's steps. */
export function lastEpochLoss(history: TrainStep[]): number {
  const last = history.filter((s) => s.epoch === history[history.length - 1]?.epoch);
  return last.reduce((a, s) => a + s.loss, 0) / Math.max(1, last.length);
}

/** Load CV and dead experts of a test load. */
export function testHealth(load: number[]): { moeLoadCv: number; moeDeadExperts: number } {
  const { cv, dead } = loadHealth(load);
  return { moeLoadCv: cv, moeDeadExperts: dead };
}
