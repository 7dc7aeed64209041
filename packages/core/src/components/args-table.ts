import { MoEArgumentError } from '../util/errors.js';
import { checkInteger, checkOneOf, describe, rejectUnknownOptions } from '../util/validate.js';

/** The arguments resolved so far, in declaration order (what a later default or check may read). */
export type ResolvedSoFar = Readonly<Record<string, unknown>>;

/**
 * One argument of a component: its default, whether it may stay unset, and its check. An
 * {@link ArgsTable} of these gives a component's defaults, validation and `getConfig` from one
 * declaration (MegaBlocks: one validated config object per component).
 */
export interface ArgSpec<T> {
  /** The value when the argument is omitted. */
  readonly default?: T;
  /** The value when omitted, computed from the arguments declared before it (e.g. `gates` from `noise`). */
  readonly defaultFrom?: (resolved: ResolvedSoFar) => T | undefined;
  /** May stay `undefined` (e.g. `inputDim` of a lazily built router, `seed`). */
  readonly optional?: boolean;
  /** What the argument must be, for the error when it is missing. */
  readonly expected?: string;
  /** A nested component (router, gate, algorithm, bank): saved as `{ className, package, config }` and rebuilt on load. */
  readonly component?: boolean;
  /** Throws a {@link MoEArgumentError} naming `where` and `name` when `value` is wrong. */
  readonly check?: (where: string, name: string, value: T, resolved: ResolvedSoFar) => void;
}

/** A component's arguments, one {@link ArgSpec} per field of its args interface (the compiler checks none is missing). */
export type ArgsTable<A> = { readonly [K in keyof Required<A>]: ArgSpec<Exclude<A[K], undefined>> };

/** The options every {@link arg} builder takes. */
export interface ArgOptions<T> {
  /** The value when the argument is omitted. */
  default?: T;
  /** The value when omitted, computed from the arguments declared before it. */
  defaultFrom?: (resolved: ResolvedSoFar) => T | undefined;
  /** May stay `undefined`. */
  optional?: boolean;
}

/** Builders of the common {@link ArgSpec}s. */
export const arg = {
  /** An integer in `[min, max]`; `max` may depend on earlier arguments (`k ≤ numExperts`). */
  integer(options: ArgOptions<number> & { min: number; max?: number | ((resolved: ResolvedSoFar) => number) }): ArgSpec<number> {
    const { min, max, ...rest } = options;
    return { ...rest, expected: `an integer ≥ ${min}`, check: (where, name, value, resolved) => checkInteger(where, name, value, min, typeof max === 'function' ? max(resolved) : (max ?? Infinity)) };
  },
  /** A finite number, optionally bounded: `min`/`max` inclusive, `above` exclusive. */
  number(options: ArgOptions<number> & { min?: number; max?: number; above?: number } = {}): ArgSpec<number> {
    const { min, max, above, ...rest } = options;
    const bounds = [min !== undefined ? `≥ ${min}` : '', above !== undefined ? `> ${above}` : '', max !== undefined ? `≤ ${max}` : ''].filter(Boolean).join(' and ');
    const expected = `a finite number${bounds ? ` ${bounds}` : ''}`;
    return {
      ...rest,
      expected,
      check: (where, name, value) => {
        const ok = typeof value === 'number' && Number.isFinite(value) && (min === undefined || value >= min) && (max === undefined || value <= max) && (above === undefined || value > above);
        if (!ok) throw new MoEArgumentError(where, name, expected, describe(value));
      },
    };
  },
  /** One of `allowed`. */
  oneOf<T extends string>(allowed: readonly T[], options: ArgOptions<T> = {}): ArgSpec<T> {
    return { ...options, expected: `one of ${allowed.map((a) => `'${a}'`).join(' | ')}`, check: (where, name, value) => checkOneOf(where, name, value, allowed) };
  },
  /** `true` or `false`. */
  boolean(options: ArgOptions<boolean> = {}): ArgSpec<boolean> {
    return {
      ...options,
      expected: 'a boolean',
      check: (where, name, value) => {
        if (typeof value !== 'boolean') throw new MoEArgumentError(where, name, 'a boolean', describe(value));
      },
    };
  },
  /** A nested component; `check` may ask more of it (e.g. "a token-choice router"). */
  component<T>(options: { optional?: boolean; check?: ArgSpec<T>['check'] } = {}): ArgSpec<T> {
    return {
      ...options,
      component: true,
      expected: 'a component',
      check: (where, name, value, resolved) => {
        if (typeof value !== 'object' || value === null) throw new MoEArgumentError(where, name, 'a component (router, gate, algorithm or expert bank)', describe(value));
        options.check?.(where, name, value, resolved);
      },
    };
  },
  /** Any other value: a default, and a check of your own. */
  value<T>(options: ArgOptions<T> & { expected?: string; check?: ArgSpec<T>['check'] } = {}): ArgSpec<T> {
    return options;
  },
};

/**
 * `args` checked against `table` and completed with its defaults, in declaration order: unknown
 * options are rejected by name, a missing required argument and every failed check throw a
 * {@link MoEArgumentError} naming `where` and the argument.
 */
export function resolveArgs<A extends object, C = A>(where: string, table: ArgsTable<A>, args: A): C {
  if (typeof args !== 'object' || args === null) throw new MoEArgumentError(where, 'args', 'an object of arguments', describe(args));
  rejectUnknownOptions(where, args, Object.keys(table));
  const given = args as Record<string, unknown>;
  const resolved: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table) as [string, ArgSpec<unknown>][]) {
    let value = given[name];
    if (value === undefined) value = spec.defaultFrom !== undefined ? spec.defaultFrom(resolved) : spec.default;
    if (value === undefined) {
      if (spec.optional) continue;
      throw new MoEArgumentError(where, name, spec.expected ?? 'a value', 'undefined');
    }
    spec.check?.(where, name, value, resolved);
    resolved[name] = value;
  }
  return resolved as C;
}
