import type { CapacityRounding } from './capacity.js';
import { capacityPresets, type CapacityPresetName } from './capacity-presets.js';
import { MoEArgumentError } from './errors.js';
import { checkFiniteNumber, checkInteger, checkOneOf, describe, rejectUnknownOptions } from './validate.js';

/**
 * How many slots each expert gets, in one validated object (the token-choice algorithm's: expert
 * choice, Soft MoE and balanced assignment size their own buffers). Factors follow Tutel's sign
 * convention: `f > 0` about `f` times an even share, `0` dropless, `f < 0` dropless up to `|f|` times
 * an even share (see {@link computeCapacity}). Paired train/eval factors as lucidrains' ST-MoE.
 *
 * @example
 * ```ts
 * const capacity: CapacityConfig = { train: 1.25, eval: 2.0, preset: 'deepspeed' };
 * new MixtureOfExperts({ router, experts, capacity });
 * ```
 */
export interface CapacityConfig {
  /** Capacity factor while training. Default 1.25 (Switch). */
  train?: number;
  /** Capacity factor in evaluation. Default 2.0 (Switch); 0 is dropless (every choice kept, one `[E]` read per call). */
  eval?: number;
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
  /** Capacity factor in evaluation. */
  readonly eval: number;
}

const KNOWN = ['train', 'eval', 'preset', 'rounding', 'multiplyByK', 'multipleOf', 'min'];

/** The defaults of {@link CapacityConfig}: train 1.25, eval 2.0. */
export const DEFAULT_CAPACITY: ResolvedCapacityConfig = Object.freeze({ train: 1.25, eval: 2.0 });

/**
 * Validates a capacity config and fills in the factors: `config`'s fields first, then `fallback`'s
 * (a router's own, e.g. Switch's 1.25 / 2.0), then {@link DEFAULT_CAPACITY}. Unknown fields, a
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
  checkFiniteNumber(where, 'capacity.eval', merged.eval);
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
