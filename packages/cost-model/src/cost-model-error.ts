/**
 * The error every function of this package throws for a bad argument. Its message reads like
 * `@moekit/core`'s `MoEArgumentError` (`where: argument 'x' expected …, got …`); it is defined here so
 * that the cost model stays pure TypeScript, without TensorFlow.js.
 */
export class CostModelArgumentError extends Error {
  /** The function that rejected the input, e.g. `'allToAllTime'`. */
  readonly where: string;
  /** The argument that was wrong, e.g. `'gpus'`. */
  readonly argument: string;
  /** What the argument had to be. */
  readonly expected: string;
  /** What it was. */
  readonly actual: string;

  /** Builds the error; the message reads `where: argument 'x' expected …, got …`. */
  constructor(where: string, argument: string, expected: string, actual: string) {
    super(`${where}: argument '${argument}' expected ${expected}, got ${actual}`);
    this.name = 'CostModelArgumentError';
    this.where = where;
    this.argument = argument;
    this.expected = expected;
    this.actual = actual;
  }
}

/** Throws unless `value` is a finite number `> 0` (or `>= 0` when `allowZero`). */
export function requirePositive(where: string, argument: string, value: number, allowZero = false): void {
  const ok = Number.isFinite(value) && (allowZero ? value >= 0 : value > 0);
  if (!ok) throw new CostModelArgumentError(where, argument, allowZero ? 'a finite number >= 0' : 'a finite number > 0', String(value));
}

/** Throws unless `value` is an integer `>= min`. */
export function requireInteger(where: string, argument: string, value: number, min = 1): void {
  if (!Number.isInteger(value) || value < min) throw new CostModelArgumentError(where, argument, `an integer >= ${min}`, String(value));
}
