import { MoEArgumentError } from '@moekit/core';

/**
 * Checks the options object of an export taking a full input shape (`exportMoELayer`,
 * `exportLayersModel`): an object, only the `known` keys, and `batchShape` of rank ≥ 2 with positive
 * integer dimensions (`shapeHint` says what else the caller expects of it). Throws `MoEArgumentError`
 * naming the option.
 * @internal
 */
export function checkBatchShapeOptions(where: string, options: { batchShape: readonly number[] }, known: readonly string[], shapeHint = ''): void {
  if (typeof options !== 'object' || options === null) throw new MoEArgumentError(where, 'options', `{ batchShape, ${known.filter((k) => k !== 'batchShape').map((k) => `${k}?`).join(', ')} }`, String(options));
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new MoEArgumentError(where, key, `one of the options ${known.join(', ')}`, `the unknown option '${key}'`);
  }
  const shape = options.batchShape;
  if (!Array.isArray(shape) || shape.length < 2 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new MoEArgumentError(where, 'batchShape', `the full input shape, rank >= 2, positive integers${shapeHint}`, JSON.stringify(shape));
  }
}
