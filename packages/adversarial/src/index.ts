/**
 * Adversarial robustness for moekit: L∞ FGSM (Goodfellow et al. 2015) and PGD (Madry et al. 2018)
 * attacks against a model's loss or any objective (e.g. the router's output), cross-entropy and TRADES
 * (Zhang et al. 2019) adversarial training, AdvMoE's router-expert alternating adversarial training
 * (Zhang et al. 2023, arXiv:2308.10110), and robust evaluation with the router's robustness.
 *
 * @packageDocumentation
 */
export type { AdvMoEModel, MoEClassifierOutput } from './adv-moe-model.js';
export type { LabelledImages } from './labelled-images.js';
export { crossEntropyObjective, routerObjective, tradesObjective, type AttackObjective, type ForwardModel } from './attack-objective.js';
export { fgsm, type FgsmArgs } from './fgsm.js';
export { pgd, type PgdArgs } from './pgd.js';
export { pgdAttack, fgsmAttack, type ModelAttack } from './model-attack.js';
export { crossEntropy } from './cross-entropy.js';
export { softmaxKlDivergence } from './softmax-kl-divergence.js';
export { tradesLoss, type TradesLossArgs, type TradesLoss } from './trades-loss.js';
export type { TrainingAttackArgs } from './training-attack.js';
export { advMoETrain, type AdvMoERouterLoss, type AdvMoETrainArgs, type AdvMoEStepMetrics, type AdvMoETrainResult } from './adv-moe-train.js';
export { adversarialTrain, type AdversarialTrainArgs, type AdversarialLoss, type AdversarialStepMetrics, type AdversarialTrainResult } from './adversarial-train.js';
export { robustEvaluate, type RobustEvaluateOptions, type RobustEvaluation } from './robust-evaluate.js';
