import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '../util/errors.js';
import { describe } from '../util/validate.js';

/** A component (router, gate, algorithm, expert bank) as saved inside its container's config. */
export interface ComponentConfig {
  /** The registered class name. */
  className: string;
  /** The npm package that registers the class: the one to import before loading. */
  package?: string;
  /** The component's `getConfig()`. */
  config: tf.serialization.ConfigDict;
}

/** A class the registry can rebuild: `className`, and `fromConfig` as `tf.serialization` expects. */
export interface RegistrableClass extends tf.serialization.SerializableConstructor<tf.serialization.Serializable> {
  /** The name it is registered and saved under. */
  readonly className: string;
  /** Rebuilds an instance from its `getConfig()`. */
  fromConfig: tf.serialization.FromConfigMethod<tf.serialization.Serializable>;
}

const registry = new Map<string, { cls: RegistrableClass; packageName: string }>();

/**
 * Registers a component class under its `className`, with the package that defines it (named in
 * the error when a saved model needs it and it was not imported), and with `tf.serialization` so
 * tfjs-layers finds it too. Registering the same class again is a no-op; another class under a
 * taken name is an error.
 *
 * @example
 * ```ts
 * import { registerComponent } from '@moekit/core';
 * import { TopKRouter } from '@moekit/router-topk';
 *
 * registerComponent(TopKRouter, '@moekit/router-topk');
 * ```
 */
export function registerComponent(cls: RegistrableClass, packageName: string): void {
  const taken = registry.get(cls.className);
  if (taken !== undefined && taken.cls !== cls) {
    throw new MoEArgumentError('registerComponent', 'cls', `a class name not registered yet`, `'${cls.className}', already registered by ${taken.packageName}`);
  }
  registry.set(cls.className, { cls, packageName });
  tf.serialization.registerClass(cls);
}

/** The package that registered `className`, if any. */
export function registeredPackage(className: string): string | undefined {
  return registry.get(className)?.packageName;
}

/**
 * `{ className, package, config }` of a serialisable component, for a container's `getConfig`
 * (MoELayer, GatedRouter, a router wrapper); an error naming `where` and `name` if it is not serialisable.
 */
export function componentConfig(component: unknown, where: string, name: string): ComponentConfig {
  const c = component as Partial<{ getClassName(): string; getConfig(): tf.serialization.ConfigDict }> | undefined;
  if (typeof c?.getClassName !== 'function' || typeof c.getConfig !== 'function') {
    throw new MoEArgumentError(where, name, 'a serialisable component (a registered tf.serialization.Serializable)', 'one without getClassName/getConfig');
  }
  const className = c.getClassName();
  const packageName = registeredPackage(className);
  return { className, ...(packageName !== undefined ? { package: packageName } : {}), config: c.getConfig() };
}

/**
 * Rebuilds a component from {@link componentConfig}'s output: through moekit's registry, else
 * `tf.serialization`'s (classes registered there directly); an unregistered class is an error that
 * names the package to import. Lookups are by own name only (a `Map`, and `tf.serialization`'s own
 * entries): a `className` such as `constructor` or `__proto__`, or one that is not a string, is an error.
 */
export function fromComponentConfig<T>(spec: unknown, where: string, name: string): T {
  const { className, package: packageName, config } = (spec ?? {}) as Partial<ComponentConfig>;
  if (typeof className !== 'string') throw new MoEArgumentError(where, `${name}.className`, 'a class name (a string)', describe(className));
  // tf.serialization's map is a plain object: own entries only, so 'constructor' or 'toString' never reads Object's members
  const tfClasses = tf.serialization.SerializationMap.getMap().classNameMap;
  const cls = registry.get(className)?.cls ?? (Object.prototype.hasOwnProperty.call(tfClasses, className) ? tfClasses[className]?.[0] : undefined);
  if (cls === undefined) {
    const hint = typeof packageName === 'string' ? `import '${packageName}' before loading` : 'import the package that defines it before loading';
    throw new MoEArgumentError(where, `${name}.className`, `a registered component class (${hint})`, `'${className}'`);
  }
  const fromConfig = (cls as unknown as { fromConfig: tf.serialization.FromConfigMethod<tf.serialization.Serializable> }).fromConfig;
  return fromConfig(cls, config ?? {}) as T;
}
