import type * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '../util/errors.js';
import { describe } from '../util/validate.js';

/**
 * What a component can do beyond its contract, declared rather than guessed from optional methods:
 * `'selectExperts'` — a new, independent copy over a subset of the experts (expert pruning);
 * `'gateWeights'` — the per-expert router weight vectors `[Dg, E]` (pruning's router-change scores);
 * `'excludedExperts'` — `route`/`scores` honour {@link RouteOptions.excludedExperts} (hard utilisation constraints).
 */
export type Capability = 'selectExperts' | 'gateWeights' | 'excludedExperts';

/** The methods each {@link Capability} promises. */
export interface CapabilityMethods {
  /** `selectExperts(keep)`: a new component over the experts `keep` (expert `keep[i]` becomes `i`), weights copied; this one unchanged. */
  selectExperts: {
    /** A new component over the experts `keep`; this one unchanged. */
    selectExperts(keep: readonly number[]): unknown;
  };
  /** `gateWeights()`: a copy of the `[Dg, E]` per-expert weight vectors, column `e` scoring expert `e`. */
  gateWeights: {
    /** A copy of the `[Dg, E]` per-expert weight vectors. */
    gateWeights(): tf.Tensor2D;
  };
  /** No method: `route`/`scores` honour `excludedExperts`. */
  excludedExperts: object;
}

/** A component that declares its capabilities. */
export interface Capable {
  /** The capabilities this component has (a wrapper's may depend on what it wraps). */
  readonly capabilities: ReadonlySet<Capability>;
}

/** True when `component` declares `capability` (and so has its methods). */
export function hasCapability<C extends Capability>(component: unknown, capability: C): component is CapabilityMethods[C] & Capable {
  const declared = (component as Partial<Capable> | undefined)?.capabilities;
  return declared instanceof Set && declared.has(capability);
}

/** `component` with `capability`, or an error naming `where`, the argument `name`, the capability and the component's class. */
export function requireCapability<C extends Capability, T>(component: T, capability: C, where: string, name: string): T & CapabilityMethods[C] & Capable {
  if (!hasCapability(component, capability)) {
    const named = component as { getClassName?: () => string; constructor?: { name?: string } } | undefined;
    const cls = named?.getClassName?.() ?? (named?.constructor === Object ? 'a plain object' : (named?.constructor?.name || describe(component)));
    throw new MoEArgumentError(where, name, `a component with the '${capability}' capability`, `${cls} (capabilities: ${[...((component as Partial<Capable>)?.capabilities ?? [])].join(', ') || 'none'})`);
  }
  return component as T & CapabilityMethods[C] & Capable;
}
