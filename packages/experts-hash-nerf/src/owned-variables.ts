import type { Component, NamedVariable } from '@moekit/core';

/**
 * `child`'s named variables under `prefix/`, for a component that builds sub-components itself (an
 * encoding, an MLP) rather than taking them as arguments: the Component base only walks arguments.
 */
export function ownedVariables(prefix: string, child: Component): NamedVariable[] {
  return child.namedVariables().map(([path, v]) => [`${prefix}/${path}`, v] as const);
}
