import { capacityPresets, type CapacityPreset, type CapacityPresetName } from './capacity-presets.js';
import { MoEArgumentError } from '../util/errors.js';
import { checkFiniteNumber, checkInteger, checkOneOf, describe, rejectUnknownOptions } from '../util/validate.js';

/** How a fractional capacity becomes an integer. `'round'` is half-to-even, as Python's `round`. */
export type CapacityRounding = 'floor' | 'ceil' | 'round';

/** Inputs of {@link computeCapacity}. */
export interface CapacityOptions {
  /** Tokens `T` routed in this call (≥ 1). */
  numTokens: number;
  /** Experts `E` (≥ 1). */
  numExperts: number;
  /** Choices per token `K`, in `[1, E]`. */
  k: number;
  /**
   * Capacity factor `f` (Tutel's sign convention): `f > 0` gives about `f` times an even share;
   * `0` is dropless (capacity = `neededCapacity`); `f < 0` is `min(neededCapacity, bound at |f|)`.
   */
  capacityFactor: number;
  /** The largest number of (token, choice) pairs any expert was asked for; required when `f ≤ 0`. */
  neededCapacity?: number;
  /** A library's convention; when given, `rounding` and `multiplyByK` must not be. */
  preset?: CapacityPresetName;
  /** Rounding of `f · T (· K) / E`. Default `'ceil'` (ignored with a preset). */
  rounding?: CapacityRounding;
  /** Multiply the even share by `K` (each token takes `K` slots). Default `true` (ignored with a preset). */
  multiplyByK?: boolean;
  /** Round the capacity up to a multiple of this. Default 1, or the preset's. */
  multipleOf?: number;
  /** Lower bound of a positive-factor capacity. Default 1, or the preset's. */
  minCapacity?: number;
}

function roundHalfToEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const roundings: Record<CapacityRounding, (x: number) => number> = {
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfToEven,
};

const WHERE = 'computeCapacity';
// the keys of CapacityOptions: a misspelt one is an error naming it
const CAPACITY_OPTIONS: readonly (keyof CapacityOptions)[] = ['numTokens', 'numExperts', 'k', 'capacityFactor', 'neededCapacity', 'preset', 'rounding', 'multiplyByK', 'multipleOf', 'minCapacity'];

function genericPreset(options: CapacityOptions): CapacityPreset {
  const rounding = options.rounding ?? 'ceil';
  checkOneOf(WHERE, 'rounding', rounding, ['floor', 'ceil', 'round']);
  const multiplyByK = options.multiplyByK ?? true;
  const round = roundings[rounding];
  return {
    source: 'moekit',
    bound: (T, E, k, f) => round(((multiplyByK ? k : 1) * T * f) / E),
    multipleOf: 1,
    minCapacity: 1,
    capAtNumTokens: false,
    droplessWhenZero: false,
    supportsDropless: true,
  };
}

function resolvePreset(options: CapacityOptions): CapacityPreset {
  if (options.preset === undefined) return genericPreset(options);
  // own entries only: 'constructor' or 'toString' must not read Object's members as a preset
  const preset = Object.prototype.hasOwnProperty.call(capacityPresets, options.preset) ? capacityPresets[options.preset] : undefined;
  if (preset === undefined) {
    throw new MoEArgumentError(WHERE, 'preset', `one of ${Object.keys(capacityPresets).join(' | ')}`, describe(options.preset));
  }
  for (const name of ['rounding', 'multiplyByK'] as const) {
    if (options[name] !== undefined) {
      throw new MoEArgumentError(WHERE, name, `undefined with preset '${options.preset}' (the preset fixes it)`, describe(options[name]));
    }
  }
  return preset;
}

function neededOrThrow(options: CapacityOptions, why: string): number {
  const needed = options.neededCapacity;
  if (needed === undefined) {
    throw new MoEArgumentError(WHERE, 'neededCapacity', `an integer >= 0 (${why})`, 'undefined');
  }
  checkInteger(WHERE, 'neededCapacity', needed, 0);
  return needed;
}

/**
 * Slots per expert for one routing call.
 *
 * - `f > 0`: `rounding(f · T · K / E)` (without `K` when `multiplyByK` is false), at least `minCapacity`,
 *   and at most `max(T · K, minCapacity)`: the call's pairs, more than any expert can be asked for
 *   (so a factor of `1e308` is dropless with a finite buffer, and no bounded capacity drops a pair);
 * - `f = 0`: dropless, `neededCapacity`;
 * - `f < 0`: Tutel's bounded dropless, `min(neededCapacity, bound at |f|)`;
 *
 * then rounded up to `multipleOf`, and never below 1 (an expert buffer has at least one row).
 * A `preset` replaces the first rule by that library's own arithmetic (see {@link capacityPresets}).
 *
 * @example
 * ```ts
 * import { computeCapacity } from '@moekit/core';
 *
 * computeCapacity({ numTokens: 1024, numExperts: 8, k: 2, capacityFactor: 1.25 }); // ceil(1.25·1024·2/8) = 320
 * computeCapacity({ numTokens: 1024, numExperts: 8, k: 2, capacityFactor: 1.25, preset: 'vmoe' }); // 320
 * ```
 */
export function computeCapacity(options: CapacityOptions): number {
  rejectUnknownOptions(WHERE, options, CAPACITY_OPTIONS);
  const { numTokens, numExperts, k, capacityFactor } = options;
  checkInteger(WHERE, 'numTokens', numTokens, 1);
  checkInteger(WHERE, 'numExperts', numExperts, 1);
  checkInteger(WHERE, 'k', k, 1, numExperts);
  checkFiniteNumber(WHERE, 'capacityFactor', capacityFactor);
  const preset = resolvePreset(options);
  const multipleOf = options.multipleOf ?? preset.multipleOf;
  const minCapacity = options.minCapacity ?? preset.minCapacity;
  checkInteger(WHERE, 'multipleOf', multipleOf, 1);
  checkInteger(WHERE, 'minCapacity', minCapacity, 0);
  if (capacityFactor <= 0 && !preset.supportsDropless) {
    throw new MoEArgumentError(WHERE, 'capacityFactor', `> 0 (preset '${options.preset}' has no dropless mode)`, describe(capacityFactor));
  }

  let capacity: number;
  if (capacityFactor > 0) {
    capacity = preset.bound(numTokens, numExperts, k, capacityFactor);
    if (preset.capAtNumTokens) capacity = Math.min(capacity, numTokens);
    capacity = Math.max(capacity, minCapacity);
    // No expert can be asked for more than the call's T·K pairs (T when a token's choices are distinct,
    // which the contract does not promise), so slots past max(T·K, minCapacity) are never used: the
    // bound keeps a huge factor (1e9, 1e308) from sizing an [E, ∞, D] buffer and changes no drop.
    capacity = Math.min(capacity, Math.max(numTokens * k, minCapacity));
    if (capacity === 0 && preset.droplessWhenZero) {
      capacity = neededOrThrow(options, `preset '${options.preset}' falls back to dropless when its capacity is 0`);
    }
    if (capacity < 1 && options.preset !== undefined) {
      throw new MoEArgumentError(WHERE, 'capacityFactor', `a factor giving capacity >= 1 under preset '${options.preset}'`, `${capacityFactor} (capacity ${capacity})`);
    }
  } else if (capacityFactor === 0) {
    capacity = neededOrThrow(options, 'capacityFactor 0 is dropless');
  } else {
    const needed = neededOrThrow(options, 'a negative capacityFactor bounds the needed capacity');
    capacity = Math.min(needed, preset.bound(numTokens, numExperts, k, -capacityFactor));
  }
  capacity = Math.ceil(capacity / multipleOf) * multipleOf;
  return Math.max(capacity, 1);
}
