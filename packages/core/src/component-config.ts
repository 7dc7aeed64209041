import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from './errors.js';

/** A component (router, gate, algorithm, expert bank) registered with `tf.serialization`, as saved. */
export interface ComponentConfig {
  /** The registered class name. */
  className: string;
  /** The component's `getConfig()`. */
  config: tf.serialization.ConfigDict;
}

/**
 * `{ className, config }` of a serialisable component, for a container's `getConfig` (MoELayer,
 * GatedRouter, BatchPriorityRouter); an error naming `where` and `name` if it is not serialisable.
 */
export function componentConfig(component: unknown, where: string, name: string): ComponentConfig {
  const c = component as Partial<{ getClassName(): string; getConfig(): tf.serialization.ConfigDict }> | undefined;
  if (typeof c?.getClassName !== 'function' || typeof c.getConfig !== 'function') {
    throw new MoEArgumentError(where, name, 'a serialisable component (a registered tf.serialization.Serializable)', 'one without getClassName/getConfig');
  }
  return { className: c.getClassName(), config: c.getConfig() };
}

/**
 * Rebuilds a component from {@link componentConfig}'s output through tfjs's serialisation registry;
 * an unregistered class is an error that says to import its package first.
 */
export function fromComponentConfig<T>(spec: unknown, where: string, name: string): T {
  const { className, config } = (spec ?? {}) as Partial<ComponentConfig>;
  const entry = className === undefined ? undefined : tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (entry === undefined) {
    throw new MoEArgumentError(where, `${name}.className`, 'a class registered with tf.serialization (import its package before loading)', `'${className}'`);
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, config ?? {}) as T;
}
