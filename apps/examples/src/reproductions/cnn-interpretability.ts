/**
 * Pavlitska et al. 2022 (arXiv:2204.10598): in an MoE-CNN the experts specialise by class (mutual
 * information well above a random assignment's); the soft constraint balances the load better, the hard
 * constraint gives higher accuracy.
 */
import { constraintExperiment, formatConstraintResults } from '../models/constraint-experiment.js';
import { runStamp } from '../run-stamp.js';

/** Runs the three variants and returns the RESULTS.md section. */
export async function run(options: { quick: boolean }): Promise<string> {
  const o = options.quick
    ? { trainSize: 300, testSize: 200, epochs: 1, experts: 4, seed: 1 }
    : { trainSize: 4000, testSize: 2000, epochs: 3, experts: 4, seed: 1 };
  const results = constraintExperiment({ ...o, constraints: ['none', 'soft', 'hard'] });
  const [none, soft, hard] = results as [typeof results[0], typeof results[0], typeof results[0]];
  const ratios = results.map((r) => r.mutualInformation / Math.max(r.randomMutualInformation, 1e-9));
  const specialise = results.filter((r) => r.mutualInformation > 5 * r.randomMutualInformation && r.mutualInformation > 0.05);
  const holds = [specialise.length > 0, soft.loadCv < hard.loadCv && soft.loadCv < none.loadCv, hard.accuracy > soft.accuracy];
  const overall = holds.every(Boolean) ? 'holds' : holds.some(Boolean) ? 'holds only partly' : 'does not hold';
  const parts = [
    specialise.length > 0
      ? `experts specialise by class in ${specialise.map((r) => r.constraint).join(', ')} (I(E; C) ${specialise.map((r) => `${r.mutualInformation.toFixed(3)}`).join(', ')} bits against ${specialise.map((r) => r.randomMutualInformation.toFixed(4)).join(', ')} for a random assignment of the same load)`
      : `the experts do not specialise by class in any variant (I(E; C) at most ${Math.max(...results.map((r) => r.mutualInformation)).toFixed(3)} bits; the random assignment gives ${Math.max(...results.map((r) => r.randomMutualInformation)).toFixed(4)})`,
    soft.loadCv < hard.loadCv && soft.loadCv < none.loadCv
      ? `the soft constraint balances the test load best (load CV ${soft.loadCv.toFixed(2)} against ${hard.loadCv.toFixed(2)} hard and ${none.loadCv.toFixed(2)} none)`
      : `the soft constraint does not balance the test load best (load CV soft ${soft.loadCv.toFixed(2)}, hard ${hard.loadCv.toFixed(2)}, none ${none.loadCv.toFixed(2)})`,
    hard.accuracy > soft.accuracy
      ? `the hard constraint is more accurate than the soft one (${hard.accuracy.toFixed(4)} against ${soft.accuracy.toFixed(4)})`
      : `the hard constraint is not more accurate than the soft one (${hard.accuracy.toFixed(4)} against ${soft.accuracy.toFixed(4)})`,
  ];
  return [
    '## CNN interpretability (Pavlitska et al. 2022): specialisation, soft vs hard constraints',
    '',
    `Command: \`npm run reproduce -- cnn-interpretability${options.quick ? ' --quick' : ''}\`; seed ${o.seed}. The demo's MNIST MoE-CNN (stem conv, ${o.experts} narrow ResBlock experts routed per image by a conv gate and Shazeer's noisy top-1 with softmax gates, head), dropless, ${o.epochs} epochs over the first ${o.trainSize} training images, evaluated on the first ${o.testSize} test images. none: the router's own importance and load losses (weight 0.01); soft: KL to uniform, weight 1; hard: relative, threshold 0.1. I(E; C) from the first-choice expert × class counts; the random baseline draws each image's expert from the same load independently of its class (20 draws).`,
    '',
    formatConstraintResults(results),
    '',
    `I(E; C) / random: ${results.map((r, i) => `${r.constraint} ${ratios[i]!.toFixed(0)}×`).join(', ')}.`,
    '',
    runStamp(),
    '',
    `Verdict: ${overall} at this scale: ${parts.join('; ')}. The hard constraint masks over-used experts only in training, so in evaluation the gate is free to send most images to its favourite experts.`,
  ].join('\n');
}
