// Boundary checks shared by every public function, and exported for the authors of routers,
// expert banks and other components, so every moekit error reads the same.
import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from './errors.js';
import type { RouteOptions } from '../contracts/router.js';

/** Formats a value for an error message: arrays as `[a, b]`, strings quoted. */
export function describe(value: unknown): string {
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}

/** Throws unless `value` is an integer in `[min, max]`. */
export function checkInteger(where: string, name: string, value: number, min: number, max = Infinity): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
    throw new MoEArgumentError(where, name, range, describe(value));
  }
}

/** Throws unless `value` is a finite number. */
export function checkFiniteNumber(where: string, name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new MoEArgumentError(where, name, 'a finite number', describe(value));
  }
}

/** Throws unless `value` is one of `allowed`. */
export function checkOneOf<T extends string>(where: string, name: string, value: T, allowed: readonly T[]): void {
  if (!allowed.includes(value)) {
    throw new MoEArgumentError(where, name, `one of ${allowed.map((a) => `'${a}'`).join(' | ')}`, describe(value));
  }
}

/** Throws unless `t` has rank `rank`. */
export function checkRank(where: string, name: string, t: tf.Tensor, rank: number): void {
  if (t.rank !== rank) {
    throw new MoEArgumentError(where, name, `rank ${rank}`, `rank ${t.rank} (shape ${describe(t.shape)})`);
  }
}

/** Throws unless `t` has rank ≥ `minRank`. */
export function checkMinRank(where: string, name: string, t: tf.Tensor, minRank: number): void {
  if (t.rank < minRank) {
    throw new MoEArgumentError(where, name, `rank >= ${minRank}`, `rank ${t.rank} (shape ${describe(t.shape)})`);
  }
}

/** Throws unless `t` has exactly `shape`. */
export function checkShape(where: string, name: string, t: tf.Tensor, shape: readonly number[]): void {
  if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new MoEArgumentError(where, name, `shape ${describe(shape)}`, `shape ${describe(t.shape)}`);
  }
}

/** Throws unless `t` has dtype `dtype`. */
export function checkDtype(where: string, name: string, t: { dtype: tf.DataType }, dtype: tf.DataType): void {
  if (t.dtype !== dtype) {
    throw new MoEArgumentError(where, name, `dtype ${dtype}`, `dtype ${t.dtype}`);
  }
}

/** Throws unless every element is finite: one reduction on the device, read back as one number. */
export function checkAllFinite(where: string, name: string, t: tf.Tensor): void {
  if (t.dtype !== 'float32' || t.size === 0) return; // an empty tensor has no bad value (and tf.all of nothing does not read as true on every backend)
  const allFinite = tf.tidy(() => tf.all(tf.isFinite(t)));
  const ok = allFinite.dataSync()[0] === 1;
  allFinite.dispose();
  if (ok) return;
  const data = t.dataSync();
  const i = data.findIndex((v) => !Number.isFinite(v));
  throw new MoEArgumentError(where, name, 'finite values', `${data[i]} at flat index ${i} (shape ${describe(t.shape)})`);
}

/** Throws unless `value` is a finite number ≥ 0. */
export function checkNonNegative(where: string, name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new MoEArgumentError(where, name, 'a finite number >= 0', describe(value));
  }
}

/** Throws on the first key of `args` not in `known` (Tutel-style: a misspelt option is an error, never ignored). */
export function rejectUnknownOptions(where: string, args: object, known: readonly string[]): void {
  for (const key of Object.keys(args)) {
    if (!known.includes(key)) {
      throw new MoEArgumentError(where, key, `one of the known options (${known.join(', ')})`, `unknown option '${key}'`);
    }
  }
}

/**
 * Throws unless a router's gate input is `[T, Dg]` with `Dg = inputDim` (the width its gate kernel was
 * built for): the check every router makes at the top of `route`.
 */
export function checkGateInput(where: string, gateInput: tf.Tensor, inputDim: number): void {
  if (gateInput.rank !== 2) throw new MoEArgumentError(where, 'gateInput', 'rank 2 [T, Dg]', `shape ${describe(gateInput.shape)}`);
  if (gateInput.shape[1] !== inputDim) {
    throw new MoEArgumentError(where, 'gateInput', `width ${inputDim} (the router's inputDim)`, `shape ${describe(gateInput.shape)}`);
  }
}

/** A component's config for `getConfig()`: its resolved arguments without the unset (`undefined`) ones. */
export function definedConfig(config: object): tf.serialization.ConfigDict {
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) as tf.serialization.ConfigDict;
}

// the keys of RouteOptions (contracts/router.ts): anything else (`train`, `excluded`) is a typo
const ROUTE_OPTIONS = ['training', 'excludedExperts'];

/**
 * Throws unless `options` is a {@link RouteOptions} object: an unknown key (`{ train: true }`) is an
 * error naming it and listing the known ones, and `training` must be a boolean. Every router and gate
 * in core checks its options with it; plugins may too.
 */
export function checkRouteOptions(where: string, options: unknown): void {
  if (typeof options !== 'object' || options === null) throw new MoEArgumentError(where, 'options', '{ training, excludedExperts? }', describe(options));
  rejectUnknownOptions(where, options, ROUTE_OPTIONS);
  const training = (options as { training?: unknown }).training;
  if (typeof training !== 'boolean') throw new MoEArgumentError(where, 'options.training', 'true or false', describe(training));
}
