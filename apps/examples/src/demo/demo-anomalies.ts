/**
 * What went wrong in a demo run, one plain sentence per anomaly saying what it means for the model: a
 * dead expert (at evaluation or in training) and drops above 1 % of the (image, expert) pairs.
 */
import type { DemoResult } from './run-demo.js';

/** Drops above this fraction of the pairs are an anomaly; the same 1 % at which an MoE warns (`dropWarning`). */
export const DROP_ANOMALY = 0.01;

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** Images each expert took over the last training epoch (empty for a model without routing). */
export function lastEpochTrainLoad(result: DemoResult): number[] {
  const history = result.moe.history;
  const last = history[history.length - 1]?.epoch;
  const load: number[] = [];
  for (const step of history) {
    if (step.epoch !== last || !step.load) continue;
    step.load.forEach((l, e) => { load[e] = (load[e] ?? 0) + l; });
  }
  return load;
}

/** One sentence per anomaly of the MoE, in the order: dead experts, training drops, evaluation drops; empty when none. */
export function demoAnomalies(result: DemoResult): string[] {
  const out: string[] = [];
  const moe = result.moe;
  const testLoad = moe.testLoad ?? [];
  const trainLoad = lastEpochTrainLoad(result);
  const experts = Math.max(testLoad.length, trainLoad.length);
  const trainTotal = sum(trainLoad);
  const testTotal = sum(testLoad);
  for (let e = 0; e < experts; e++) {
    const deadAtTest = testLoad.length > 0 && testLoad[e] === 0;
    const deadInTraining = trainLoad.length > 0 && trainLoad[e] === 0;
    if (deadAtTest && deadInTraining) {
      out.push(`Expert ${e} took none of the test images and no training image in the last epoch: it is dead, its parameters do nothing at test time and no longer learn.`);
    } else if (deadAtTest) {
      out.push(`Expert ${e} took none of the test images although it took ${pct(trainLoad[e]! / Math.max(1, trainTotal))} of the training images in the last epoch: it is dead at evaluation, where the router routes without its training noise, so it learns a share of the task that the test never uses.`);
    } else if (deadInTraining) {
      out.push(`Expert ${e} took no training image in the last epoch yet ${pct(testLoad[e]! / Math.max(1, testTotal))} of the test images: it has stopped learning, and those test images meet weights left from an earlier epoch.`);
    }
  }
  const trainPairs = sum(moe.history.map((s) => sum(s.load ?? []) + (s.dropped ?? 0)));
  if (trainPairs > 0 && moe.trainDropped / trainPairs > DROP_ANOMALY) {
    out.push(`Training dropped ${pct(moe.trainDropped / trainPairs)} of the (image, expert) pairs (${moe.trainDropped} of ${trainPairs}) at capacity factor ${result.options.capacityFactor}: those images skipped an expert the router chose and reached the head through the residual path alone, so the experts trained on fewer images than were routed to them (a larger --capacity-factor, or 0 for dropless, keeps them).`);
  }
  const testPairs = testTotal + moe.testDropped;
  if (testPairs > 0 && moe.testDropped / testPairs > DROP_ANOMALY) {
    out.push(`Evaluation dropped ${pct(moe.testDropped / testPairs)} of the test (image, expert) pairs (${moe.testDropped} of ${testPairs}): the test accuracy was measured with those images missing an expert's output, so it understates the model (--eval-capacity-factor 0 measures it dropless).`);
  }
  return out;
}
