// Runs in a scratch project where the packages were installed from their npm tarballs.
import * as tf from '@tensorflow/tfjs';
import { advMoETrain, fgsm, pgd, robustEvaluate, pgdAttack, tradesLoss } from '@moekit/adversarial';

await tf.setBackend('cpu');
// a tiny routed classifier: router scores = x·R, expert e's logits = x·W[:, 3e:3e+3], the argmax choice weighted by its softmax probability
const R = tf.variable(tf.randomNormal([4, 2], 0, 1, 'float32', 1));
const W = tf.variable(tf.randomNormal([4, 6], 0, 1, 'float32', 2));
const model = {
  forward: (x) => tf.tidy(() => {
    const flat = tf.reshape(x, [-1, 4]);
    const scores = tf.matMul(flat, R);
    const expertIndex = tf.argMax(scores, 1);
    const all = tf.reshape(tf.matMul(flat, W), [-1, 2, 3]);
    const mask = tf.expandDims(tf.mul(tf.cast(tf.oneHot(expertIndex, 2), 'float32'), tf.softmax(scores)), 2);
    return { logits: tf.sum(tf.mul(all, mask), 1), routerScores: scores, expertIndex };
  }),
  routerVariables: [R],
  expertVariables: [W],
};
const images = tf.randomUniform([6, 2, 2, 1], 0, 1, 'float32', 3);
const labels = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
const objective = (x) => tf.sum(x);
const a = pgd(objective, images, { epsilon: 0.1, stepSize: 0.1, steps: 1, randomStart: false });
const b = fgsm(objective, images, { epsilon: 0.1 });
const equal = tf.all(tf.equal(a, b)).dataSync()[0] === 1;
const { history } = advMoETrain(model, { images, labels }, { attack: { epsilon: 0.1, steps: 1 }, batchSize: 3 });
const report = robustEvaluate(model, { images, labels }, pgdAttack({ epsilon: 0.1, steps: 2 }));
const trades = tradesLoss({ cleanLogits: tf.tensor2d([[0, 0]]), adversarialLogits: tf.tensor2d([[0, Math.log(3)]]), labels: tf.tensor1d([1], 'int32') });
if (!equal || history.length !== 2 || report.count !== 6 || Math.abs(trades.total.dataSync()[0] - 1.5561934) > 1e-5) {
  throw new Error('adversarial packed install is broken');
}
console.log(`pgd (1 step, α = ε) equals fgsm; advMoETrain ran ${history.length} batches; robustEvaluate counted ${report.count} images`);
