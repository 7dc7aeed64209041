import type { CapacityRounding } from './capacity.js';
import { capacityPresets, type CapacityPresetName } from './capacity-presets.js';
import { MoEArgumentError } from '../util/errors.js';
import { checkFiniteNumber, checkInteger, checkOneOf, describe, rejectUnknownOptions } from '../util/validate.js';

/**
 * How many slots each expert gets, in one validated object (the token-choice algorithm's: expert
 * choice, Soft MoE and balanced assignment size their own buffers). Factors follow Tutel's sign
 * convention: `f > 0` about `f` times an even share, `0` dropless, `f < 0` dropless up to `|f|` times
 * an even share (see {@link computeCapacity}). Paired train/eval factors as lucidrains' ST-MoE.
 * A positive factor's capacity is capped at the call's `T·K` pairs (or `min`): a huge factor such as
 * `1e308` is dropless with a finite buffer, and `metrics.capacity` reports the capped value.
 *
 * @example
 * ```ts
 * import { type CapacityConfig, MixtureOfExperts } from '@moekit/core';
 *
 * const capacity: CapacityConfig = { train: 1.25, eval: 2.0, preset: 'deepspeed' };
 * new MixtureOfExperts({ router, experts, capacity });
 * ```
 */
export interface CapacityConfig {
  /** Capacity factor while training. Default 1.25 (Switch). */
  train?: number;
  /**
   * Capacity factor in evaluation, or `'auto'` (default): dropless (0, every choice kept) where a
   * call already reads the load on the host (the `cpu` and `wasm` backends, the grouped layout),
   * {@link AUTO_EVAL_CAPACITY_FACTOR} on a GPU backend's padded layout, where a dropless capacity
   * would cost a read that stalls the device. An evaluation that drops pairs is counted in the
   * metrics and warned about (see `MixtureOfExpertsArgs.dropWarning`).
   */
  eval?: number | 'auto';
  /** A library's capacity convention (see {@link capacityPresets}). Default: none (moekit's own). */
  preset?: CapacityPresetName;
  /** Rounding of the even share, without a preset. Default `'ceil'`. */
  rounding?: CapacityRounding;
  /** Multiply the even share by `K`, without a preset. Default `true`. */
  multiplyByK?: boolean;
  /** Round the capacity up to a multiple of this. Default 1 or the preset's. */
  multipleOf?: number;
  /** Lower bound of a positive-factor capacity. Default 1 or the preset's. */
  min?: number;
}

/** A {@link CapacityConfig} with both factors filled in, checked. */
export interface ResolvedCapacityConfig extends Readonly<CapacityConfig> {
  /** Capacity factor while training. */
  readonly train: number;
  /** Capacity factor in evaluation, or `'auto'`. */
  readonly eval: number | 'auto';
}

const KNOWN = ['train', 'eval', 'preset', 'rounding', 'multiplyByK', 'multipleOf', 'min'];

/** The defaults of {@link CapacityConfig}: train 1.25 (Switch), eval `'auto'` (dropless where it costs no extra read). */
export const DEFAULT_CAPACITY: ResolvedCapacityConfig = Object.freeze({ train: 1.25, eval: 'auto' });

/** The evaluation capacity factor `'auto'` falls back to where dropless would stall the device: Switch's 2.0. */
export const AUTO_EVAL_CAPACITY_FACTOR = 2.0;

/**
 * Validates a capacity config and fills in the factors: `config`'s fields first, then `fallback`'s
 * (a router's own, e.g. hash routing's train 2), then {@link DEFAULT_CAPACITY}. Unknown fields, a
 * non-finite factor, an unknown preset or a preset with `rounding` / `multiplyByK` are errors naming
 * `where` and the field.
 */
export function resolveCapacityConfig(where: string, config: CapacityConfig | undefined, fallback?: CapacityConfig): ResolvedCapacityConfig {
  for (const [name, c] of [['capacity', config], ['router.capacity', fallback]] as const) {
    if (c === undefined) continue;
    if (typeof c !== 'object' || c === null) throw new MoEArgumentError(where, name, 'a CapacityConfig object ({ train, eval, preset, … })', describe(c));
    rejectUnknownOptions(`${where} (${name})`, c, KNOWN);
  }
  const merged = { ...DEFAULT_CAPACITY, ...definedOnly(fallback), ...definedOnly(config) };
  checkFiniteNumber(where, 'capacity.train', merged.train);
  if (merged.eval !== 'auto' && !(typeof merged.eval === 'number' && Number.isFinite(merged.eval))) {
    throw new MoEArgumentError(where, 'capacity.eval', "a finite number or 'auto'", describe(merged.eval));
  }
  if (merged.preset !== undefined) {
    checkOneOf(where, 'capacity.preset', merged.preset, Object.keys(capacityPresets) as CapacityPresetName[]);
    for (const name of ['rounding', 'multiplyByK'] as const) {
      if (merged[name] !== undefined) {
        throw new MoEArgumentError(where, `capacity.${name}`, `undefined with preset '${merged.preset}' (the preset fixes it)`, describe(merged[name]));
      }
    }
  }
  if (merged.rounding !== undefined) checkOneOf(where, 'capacity.rounding', merged.rounding, ['floor', 'ceil', 'round']);
  if (merged.multipleOf !== undefined) checkInteger(where, 'capacity.multipleOf', merged.multipleOf, 1);
  if (merged.min !== undefined) checkInteger(where, 'capacity.min', merged.min, 0);
  return Object.freeze(merged);
}

function definedOnly(config: CapacityConfig | undefined): CapacityConfig {
  return Object.fromEntries(Object.entries(config ?? {}).filter(([, v]) => v !== undefined));
}
