/**
 * The error every moekit function throws for bad input: it names the function, the argument, what
 * was expected and what was given, so the caller can fix the call without reading our source.
 *
 * @example
 * ```ts
 * import { MoEArgumentError, computeCapacity } from '@moekit/core';
 *
 * try { computeCapacity({ numTokens: 8, numExperts: 0, k: 1, capacityFactor: 1 }); }
 * catch (e) { if (e instanceof MoEArgumentError) console.log(e.argument); } // 'numExperts'
 * ```
 */
export class MoEArgumentError extends Error {
  /** The function or method that rejected the input, e.g. `'computeCapacity'`. */
  readonly where: string;
  /** The argument that was wrong, e.g. `'numExperts'`. */
  readonly argument: string;
  /** What the argument had to be. */
  readonly expected: string;
  /** What it was. */
  readonly actual: string;

  /** Builds the error; the message reads `where: argument 'x' expected …, got …`. */
  constructor(where: string, argument: string, expected: string, actual: string) {
    super(`${where}: argument '${argument}' expected ${expected}, got ${actual}`);
    this.name = 'MoEArgumentError';
    this.where = where;
    this.argument = argument;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * The error a component throws when it is used after `dispose()` released its variables: it names
 * the method and the component, so a stale reference is found at once instead of as a tfjs
 * "Tensor is disposed" deep inside a kernel.
 *
 * @example
 * ```ts
 * router.dispose();
 * router.route(x, { training: false }); // MoEDisposedError: TopKRouter.route: this TopKRouter was disposed …
 * ```
 */
export class MoEDisposedError extends Error {
  /** The method that was called, e.g. `'TopKRouter.route'`. */
  readonly where: string;

  /** Builds the error for `where` on a disposed `className`. */
  constructor(where: string, className: string) {
    super(`${where}: this ${className} was disposed (dispose() released its variables); create a new one`);
    this.name = 'MoEDisposedError';
    this.where = where;
  }
}
