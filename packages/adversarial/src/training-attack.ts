import { checkInteger, checkNonNegative, MoEArgumentError, rejectUnknownOptions } from '@moekit/core';
import { checkRange } from './check-input-range.js';
import type { PgdArgs } from './pgd.js';

/** The PGD attack that adversarial training generates its examples with (a random start, seeded by the trainer). */
export interface TrainingAttackArgs {
  /** L∞ radius `ε ≥ 0`, in input units (e.g. 0.1–0.3 on MNIST in [0, 1]). */
  epsilon: number;
  /** Step size `α ≥ 0`. Default `2.5 · ε / steps`. */
  stepSize?: number;
  /** PGD steps, an integer ≥ 1. Default 5. */
  steps?: number;
  /** Lower end of the valid input range. Default 0. */
  clipMin?: number;
  /** Upper end of the valid input range. Default 1. */
  clipMax?: number;
}

/** Validates a {@link TrainingAttackArgs} and returns the {@link PgdArgs} it stands for (random start, no seed yet). */
export function resolveTrainingAttack(where: string, attack: TrainingAttackArgs): Required<Omit<PgdArgs, 'seed'>> {
  if (attack === undefined || typeof attack !== 'object') throw new MoEArgumentError(where, 'attack', '{ epsilon, stepSize?, steps?, clipMin?, clipMax? }', String(attack));
  rejectUnknownOptions(`${where} attack`, attack, ['epsilon', 'stepSize', 'steps', 'clipMin', 'clipMax']);
  checkNonNegative(where, 'attack.epsilon', attack.epsilon);
  const steps = attack.steps ?? 5;
  checkInteger(where, 'attack.steps', steps, 1);
  const stepSize = attack.stepSize ?? (2.5 * attack.epsilon) / steps;
  checkNonNegative(where, 'attack.stepSize', stepSize);
  const clipMin = attack.clipMin ?? 0;
  const clipMax = attack.clipMax ?? 1;
  checkRange(where, clipMin, clipMax);
  return { epsilon: attack.epsilon, stepSize, steps, randomStart: true, clipMin, clipMax };
}
