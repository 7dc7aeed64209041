import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError, MoEDisposedError } from '../util/errors.js';
import { SeedStream } from '../util/seed-stream.js';
import { definedConfig } from '../util/validate.js';
import { resolveArgs, type ArgsTable } from './args-table.js';
import type { Capability } from './capabilities.js';
import { componentConfig, fromComponentConfig } from './component-registry.js';

/** What {@link Component} reads from its subclass: the registered name, the args table, the capabilities. */
export interface ComponentClass {
  /** Name under which the class is registered. */
  readonly className: string;
  /** The arguments: defaults, checks, nested components. */
  readonly argsTable: ArgsTable<object>;
  /** The capabilities every instance has (see {@link Component.capabilities} for ones that vary). */
  readonly capabilities?: readonly Capability[];
}

/** A variable a component holds, with the path it is saved under (`kernel`, `gate/kernel`, `router/gate/kernel`). */
export type NamedVariable = readonly [path: string, variable: tf.Variable];

/**
 * The base of every moekit component — routers, gates, routing algorithms, expert banks, shared
 * branches. A subclass declares, as statics, its `className`, its `argsTable` (one {@link ArgSpec}
 * per argument) and its `capabilities`; the base then gives it:
 * - `config`: the arguments checked and completed with their defaults (unknown options rejected by name);
 * - variables created, named and released in one place ({@link addVariable}, {@link variable},
 *   {@link dispose}); using a disposed component is a {@link MoEDisposedError};
 * - nested components (arguments declared with `arg.component()`): their variables are part of
 *   this one's under the argument's name, they are disposed with it, and `getConfig` / `fromConfig`
 *   save and rebuild them through the component registry — so wrappers save and load;
 * - parts it builds itself ({@link addPart}): named and disposed with it.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { type ArgsTable, Component, arg, registerComponent } from '@moekit/core';
 *
 * interface ScaledGateArgs { numOutputs: number; scale?: number; seed?: number }
 * class ScaledGate extends Component<ScaledGateArgs, Required<Omit<ScaledGateArgs, 'seed'>>> implements Gate {
 *   static readonly className = 'ScaledGate';
 *   static readonly argsTable: ArgsTable<ScaledGateArgs> = {
 *     numOutputs: arg.integer({ min: 1 }),
 *     scale: arg.number({ above: 0, default: 1 }),
 *     seed: arg.integer({ min: 0, optional: true }),
 *   };
 *   get numOutputs() { return this.config.numOutputs; }
 *   build(inputDim: number) { if (!this.hasVariable('kernel')) this.addVariable('kernel', tf.randomNormal([inputDim, this.config.numOutputs])); }
 *   scores(x: tf.Tensor2D) { this.build(x.shape[1]); return { logits: tf.tidy(() => tf.mul(tf.matMul(x, this.variable('kernel', 'ScaledGate.scores')), this.config.scale)) as tf.Tensor2D }; }
 * }
 * registerComponent(ScaledGate, 'my-package');
 * ```
 */
export abstract class Component<A extends object = object, C extends object = A> extends tf.serialization.Serializable {
  /** The validated arguments, defaults filled in (nested components included). */
  readonly config: Readonly<C>;
  private readonly ownVariables = new Map<string, tf.Variable>();
  private readonly ownParts = new Map<string, Component>();
  private seedStream: SeedStream | undefined;
  private disposed = false;

  /** Checks `args` against the subclass's `argsTable` and fills in the defaults. */
  constructor(args: A) {
    super();
    const cls = new.target as unknown as ComponentClass;
    this.config = resolveArgs<A, C>(cls.className, cls.argsTable as ArgsTable<A>, args);
  }

  /**
   * The seeds of the component's draws (initialisers, noise), one after another from the `seed`
   * argument if it has one — so a seeded component draws the same values every run and a copy made
   * from its config draws them again. Unseeded draws differ run to run.
   */
  protected get seeds(): SeedStream {
    this.seedStream ??= new SeedStream((this.config as { seed?: number }).seed);
    return this.seedStream;
  }

  /** The capabilities this component has: the class's declared list (wrappers override to follow what they wrap). */
  get capabilities(): ReadonlySet<Capability> {
    return new Set((this.constructor as unknown as ComponentClass).capabilities ?? []);
  }

  /** True once {@link dispose} has run. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The nested components (arguments declared with `arg.component()`), by argument name. */
  protected get components(): [string, unknown][] {
    const table = (this.constructor as unknown as ComponentClass).argsTable as Record<string, { component?: boolean }>;
    return Object.entries(this.config).filter(([name, value]) => table[name]?.component === true && value !== undefined);
  }

  /**
   * Every variable of this component, of its nested components and of its parts, each with its
   * path: its own by name, a nested one's as `<argument>/<path>` (`gate/kernel`), a part's as
   * `<part>/<path>` (`encoding/table`). Order: own (in creation order), nested, parts.
   */
  namedVariables(): NamedVariable[] {
    const named: NamedVariable[] = [...this.ownVariables];
    for (const [argument, nested] of this.components) {
      if (nested instanceof Component) named.push(...nested.namedVariables().map(([path, v]) => [`${argument}/${path}`, v] as const));
      else ((nested as { trainableVariables?: tf.Variable[] }).trainableVariables ?? []).forEach((v, i) => named.push([`${argument}/${i}`, v]));
    }
    for (const [name, part] of this.ownParts) named.push(...part.namedVariables().map(([path, v]) => [`${name}/${path}`, v] as const));
    return named;
  }

  /**
   * Adopts `part`, a component this one builds itself rather than takes as an argument (a hash
   * encoding, an MLP, the FFN of a shared expert): its variables become this one's under `name/`,
   * and it is disposed with this one. It is not saved in the config (the constructor rebuilds it).
   */
  protected addPart<T extends Component>(name: string, part: T): T {
    const where = `${this.getClassName()}.addPart`;
    this.assertLive(where);
    if (this.ownParts.has(name)) throw new MoEArgumentError(where, 'name', 'a name not used yet', `'${name}'`);
    this.ownParts.set(name, part);
    return part;
  }

  /** The trainable variables of this component and its nested components; empty before a lazy build. */
  get trainableVariables(): tf.Variable[] {
    return this.namedVariables().map(([, v]) => v).filter((v) => v.trainable);
  }

  /** Non-trainable state (an aux-loss-free bias), saved with the model but not trained. */
  get nonTrainableVariables(): tf.Variable[] {
    return this.namedVariables().map(([, v]) => v).filter((v) => !v.trainable);
  }

  /**
   * Adds the variable `name`, taking ownership of `initialValue` (a tensor becomes a new variable and
   * is released; a variable is adopted as it is). Called from the constructor or a lazy `build`.
   */
  protected addVariable(name: string, initialValue: tf.Tensor, trainable = true): tf.Variable {
    const where = `${this.getClassName()}.addVariable`;
    this.assertLive(where);
    if (this.ownVariables.has(name)) throw new MoEArgumentError(where, 'name', 'a name not used yet', `'${name}'`);
    let variable: tf.Variable;
    if (initialValue instanceof tf.Variable) {
      variable = initialValue;
      variable.trainable = trainable;
    } else {
      variable = tf.variable(initialValue, trainable);
      initialValue.dispose();
    }
    this.ownVariables.set(name, variable);
    return variable;
  }

  /** True when the variable `name` exists (a lazily built component has none before `build`). */
  protected hasVariable(name: string): boolean {
    return this.ownVariables.has(name);
  }

  /** The shape of the variable `name`, or `undefined` before it is built (what `inputDim` getters report). */
  protected variableShape(name: string): number[] | undefined {
    return this.ownVariables.get(name)?.shape;
  }

  /**
   * The variable `name`; a {@link MoEDisposedError} after dispose, and an error naming `where` when the
   * component is not built yet.
   */
  protected variable(name: string, where: string): tf.Variable {
    this.assertLive(where);
    const variable = this.ownVariables.get(name);
    if (variable === undefined) {
      throw new MoEArgumentError(where, 'this', `a built ${this.getClassName()} (give inputDim, call build or use it once)`, `one without its '${name}' weights`);
    }
    return variable;
  }

  /** Throws a {@link MoEDisposedError} naming `where` once the component is disposed. */
  protected assertLive(where: string): void {
    if (this.disposed) throw new MoEDisposedError(where, this.getClassName());
  }

  /** Releases this component's variables, its nested components and its parts; a second call is a no-op. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...this.ownVariables.values()]);
    this.ownVariables.clear();
    for (const [, nested] of this.components) (nested as { dispose?: () => void }).dispose?.();
    for (const part of this.ownParts.values()) part.dispose();
  }

  /** The arguments, nested components as their `{ className, package, config }`. */
  override getConfig(): tf.serialization.ConfigDict {
    const nested = new Set(this.components.map(([name]) => name));
    const config = definedConfig(this.config);
    for (const name of nested) config[name] = componentConfig(config[name], `${this.getClassName()}.getConfig`, name) as unknown as tf.serialization.ConfigDict;
    return config;
  }

  /** Rebuilds a component from its `getConfig()`, nested components through the registry (fresh weights). */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const { className, argsTable } = cls as unknown as ComponentClass;
    const args: Record<string, unknown> = { ...config };
    for (const [name, spec] of Object.entries(argsTable) as [string, { component?: boolean }][]) {
      if (spec.component === true && args[name] !== undefined) args[name] = fromComponentConfig(args[name], `${className}.fromConfig`, name);
    }
    return new cls(args);
  }
}
