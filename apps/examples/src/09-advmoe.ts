/**
 * Ladder step 9: adversarial robustness of an MoE-CNN with AdvMoE (Zhang et al. 2023): train the
 * MoE-CNN on MNIST with router-expert alternating adversarial training, then print its clean accuracy,
 * its robust accuracy under PGD and how often the attack changes its expert choice.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { advMoETrain, pgdAttack, robustEvaluate } from '@moekit/adversarial';
import { selectBackend } from '@moekit/platform';
import { advMoECnn, expertLoad, mnistTensors } from './models/advmoe-cnn.js';

/** Trains with `advMoETrain` and prints the evaluation; `quick` is a tiny size that finishes in seconds. */
export async function run(options: { quick: boolean }): Promise<void> {
  const backend = await selectBackend({ prefer: ['wasm', 'cpu'], threads: options.quick ? 1 : 'auto' });
  const size = options.quick ? { train: 200, test: 100, epochs: 1 } : { train: 2000, test: 500, epochs: 3 };
  const epsilon = 0.1;
  console.log(`AdvMoE on MNIST: ${size.train} training images, ${size.epochs} epoch(s), ε = ${epsilon}, backend ${backend.reason}`);
  const train = mnistTensors('train', size.train);
  const test = mnistTensors('test', size.test);
  const model = advMoECnn({ numExperts: 4, channels: 8, seed: 1 });
  const { seconds } = advMoETrain(model, train, {
    attack: { epsilon, steps: 3 },
    epochs: size.epochs,
    batchSize: 50,
    expertLearningRate: 3e-3,
    routerLearningRate: 1e-3,
    seed: 1,
    onStep: (m) => {
      if (m.step % 10 === 0 || m.step === m.totalSteps) {
        console.log(`  step ${m.step}/${m.totalSteps}: clean loss ${m.cleanLoss.toFixed(3)}, robust KL ${m.robustLoss.toFixed(3)}, router loss ${m.routerLoss.toFixed(3)}, router agreement ${m.routerAgreement.toFixed(2)}`);
      }
    },
  });
  const report = robustEvaluate(model, test, pgdAttack({ epsilon, steps: 10, seed: 1 }));
  console.log(`trained in ${seconds.toFixed(1)} s; clean accuracy ${report.cleanAccuracy.toFixed(3)}, robust accuracy (PGD-10, ε = ${epsilon}) ${report.robustAccuracy.toFixed(3)}, expert choice changed by the attack on ${(100 * report.expertChangeRate).toFixed(1)}% of images; load per expert ${expertLoad(model, test.images, 4).map((l) => l.toFixed(2)).join(' ')}`);
  tf.dispose([train.images, train.labels, test.images, test.labels]);
  model.dispose();
}
