// Boundary checks shared by every public function. Internal: not exported from the package index.
import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from './errors.js';

/** Formats a value for an error message. */
export function describe(value: unknown): string {
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}

export function checkInteger(where: string, name: string, value: number, min: number, max = Infinity): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
    throw new MoEArgumentError(where, name, range, describe(value));
  }
}

export function checkFiniteNumber(where: string, name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new MoEArgumentError(where, name, 'a finite number', describe(value));
  }
}

export function checkOneOf<T extends string>(where: string, name: string, value: T, allowed: readonly T[]): void {
  if (!allowed.includes(value)) {
    throw new MoEArgumentError(where, name, `one of ${allowed.map((a) => `'${a}'`).join(' | ')}`, describe(value));
  }
}

export function checkRank(where: string, name: string, t: tf.Tensor, rank: number): void {
  if (t.rank !== rank) {
    throw new MoEArgumentError(where, name, `rank ${rank}`, `rank ${t.rank} (shape ${describe(t.shape)})`);
  }
}

export function checkMinRank(where: string, name: string, t: tf.Tensor, minRank: number): void {
  if (t.rank < minRank) {
    throw new MoEArgumentError(where, name, `rank >= ${minRank}`, `rank ${t.rank} (shape ${describe(t.shape)})`);
  }
}

export function checkShape(where: string, name: string, t: tf.Tensor, shape: readonly number[]): void {
  if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new MoEArgumentError(where, name, `shape ${describe(shape)}`, `shape ${describe(t.shape)}`);
  }
}

export function checkDtype(where: string, name: string, t: tf.Tensor, dtype: tf.DataType): void {
  if (t.dtype !== dtype) {
    throw new MoEArgumentError(where, name, `dtype ${dtype}`, `dtype ${t.dtype}`);
  }
}

/** Throws unless every element is finite: one reduction on the device, read back as one number. */
export function checkAllFinite(where: string, name: string, t: tf.Tensor): void {
  if (t.dtype !== 'float32') return;
  const allFinite = tf.tidy(() => tf.all(tf.isFinite(t)));
  const ok = allFinite.dataSync()[0] === 1;
  allFinite.dispose();
  if (ok) return;
  const data = t.dataSync();
  const i = data.findIndex((v) => !Number.isFinite(v));
  throw new MoEArgumentError(where, name, 'finite values', `${data[i]} at flat index ${i} (shape ${describe(t.shape)})`);
}
