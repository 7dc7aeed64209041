import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '../util/errors.js';
import type { SoftRoutingPlan } from '../contracts/routing-plan.js';
import { describe } from '../util/validate.js';

/** Checks a Soft MoE plan against `numTokens`. @internal */
export function checkSoftPlan(where: string, plan: SoftRoutingPlan, numTokens: number): void {
  const [numGroups, groupSize, slots] = plan.dispatchWeights.shape;
  if (numGroups * groupSize !== numTokens || groupSize !== plan.groupSize) {
    throw new MoEArgumentError(where, 'plan.dispatchWeights', `shape [T / G, G, E·S] with T = ${numTokens}, G = ${plan.groupSize}`, `shape ${describe(plan.dispatchWeights.shape)}`);
  }
  if (slots !== plan.numExperts * plan.slotsPerGroup || plan.capacity !== numGroups * plan.slotsPerGroup) {
    throw new MoEArgumentError(where, 'plan', `E·S = ${plan.numExperts}·${plan.slotsPerGroup} slot columns and capacity ${numGroups}·${plan.slotsPerGroup}`, `${slots} columns, capacity ${plan.capacity}`);
  }
  if (plan.combineWeights.shape.some((d, i) => d !== plan.dispatchWeights.shape[i])) {
    throw new MoEArgumentError(where, 'plan.combineWeights', `shape ${describe(plan.dispatchWeights.shape)}`, `shape ${describe(plan.combineWeights.shape)}`);
  }
}

/**
 * Soft MoE dispatch (Puigcerver et al. 2023, Eq. 1): the slots of each group are mixtures of its
 * tokens, `X̃ = Dᵀ X`, `x` `[T, ...F]` → `[E, numGroups·S, ...F]` (expert `e`'s slots of every group,
 * group-major). One batched matMul; fully differentiable. @internal
 */
export function softDispatch(x: tf.Tensor, plan: SoftRoutingPlan): tf.Tensor {
  checkSoftPlan('dispatch', plan, x.shape[0]!);
  const [numGroups, groupSize] = plan.dispatchWeights.shape;
  const { numExperts, slotsPerGroup } = plan;
  const features = x.shape.slice(1);
  return tf.tidy(() => {
    const width = features.reduce((a, b) => a * b, 1);
    const tokens = tf.reshape(x, [numGroups, groupSize, width]); // [B, G, P]
    const slots = tf.matMul(plan.dispatchWeights, tokens, true, false); // [B, E·S, P] = Dᵀ X
    const perExpert = tf.transpose(tf.reshape(slots, [numGroups, numExperts, slotsPerGroup, width]), [1, 0, 2, 3]); // [E, B, S, P]
    return tf.reshape(perExpert, [numExperts, numGroups * slotsPerGroup, ...features]); // [E, C, ...F]
  });
}

/**
 * Soft MoE combine (Puigcerver et al. 2023, Eq. 2): each token's output is a mixture of its group's
 * slot outputs, `Y = C · f(X̃)`, `[E, numGroups·S, ...F']` → `[T, ...F']`. One batched matMul. @internal
 */
export function softCombine(expertOutput: tf.Tensor, plan: SoftRoutingPlan): tf.Tensor {
  const [numGroups, groupSize] = plan.combineWeights.shape;
  const { numExperts, slotsPerGroup, capacity } = plan;
  if (expertOutput.rank < 3 || expertOutput.shape[0] !== numExperts || expertOutput.shape[1] !== capacity) {
    throw new MoEArgumentError('combine', 'expertOutput', `shape [${numExperts}, ${capacity}, ...] (E, C of the plan)`, `shape ${describe(expertOutput.shape)}`);
  }
  const features = expertOutput.shape.slice(2);
  return tf.tidy(() => {
    const width = features.reduce((a, b) => a * b, 1);
    const perGroup = tf.transpose(tf.reshape(expertOutput, [numExperts, numGroups, slotsPerGroup, width]), [1, 0, 2, 3]); // [B, E, S, P']
    const slots = tf.reshape(perGroup, [numGroups, numExperts * slotsPerGroup, width]); // [B, E·S, P']
    const y = tf.matMul(plan.combineWeights, slots); // [B, G, P'] = C · Ỹ
    return tf.reshape(y, [numGroups * groupSize, ...features]); // [T, ...F']
  });
}
