import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import '../register.js';
import { MoEArgumentError, MoEDisposedError } from '../util/errors.js';
import { GatedRouter } from '../routers/gated-router.js';
import { LinearGate } from '../routers/linear-gate.js';
import type { RouteOptions, Router, RouterOutput } from '../contracts/router.js';
import { RouterWrapper, wrappedRouterArg, type RouterWrapperArgs } from '../routers/router-wrapper.js';
import { expectNoLeakedTensors, LinearTopKRouter } from '../testing/index.js';
import { arg, resolveArgs, type ArgsTable } from './args-table.js';
import { hasCapability, requireCapability } from './capabilities.js';
import { Component } from './component.js';
import { componentConfig, fromComponentConfig, registerComponent } from './component-registry.js';

interface ScaledArgs {
  numExperts: number;
  k?: number;
  noise?: 'none' | 'gaussian';
  std?: number;
  seed?: number;
}
const scaledTable: ArgsTable<ScaledArgs> = {
  numExperts: arg.integer({ min: 1 }),
  k: arg.integer({ min: 1, max: (r) => r['numExperts'] as number, default: 2 }),
  noise: arg.oneOf(['none', 'gaussian'], { default: 'none' }),
  std: arg.number({ min: 0, defaultFrom: (r) => (r['noise'] === 'gaussian' ? 1 : 0) }),
  seed: arg.number({ optional: true }),
};

/** A router that scales the wrapped router's logits' choice by nothing: only forwards, to test wrapping. */
class ForwardingRouter extends RouterWrapper<RouterWrapperArgs & { note?: string }> {
  static readonly className = 'TestForwardingRouter';
  static readonly argsTable: ArgsTable<RouterWrapperArgs & { note?: string }> = { router: wrappedRouterArg, note: arg.value<string>({ default: 'hello' }) };
  route(gateInput: tf.Tensor2D, options: RouteOptions): RouterOutput {
    this.assertLive('TestForwardingRouter.route');
    return this.router.route(gateInput, options);
  }
}
registerComponent(ForwardingRouter, '@moekit/core (tests)');

describe('resolveArgs (one args table: defaults and checks)', () => {
  it('fills defaults in declaration order, later ones from earlier ones', () => {
    expect(resolveArgs('Scaled', scaledTable, { numExperts: 4 })).toEqual({ numExperts: 4, k: 2, noise: 'none', std: 0 });
    expect(resolveArgs('Scaled', scaledTable, { numExperts: 4, noise: 'gaussian' })).toEqual({ numExperts: 4, k: 2, noise: 'gaussian', std: 1 });
  });

  it('names the argument, the expectation and the value of every failure', () => {
    expect(() => resolveArgs('Scaled', scaledTable, { numExperts: 4, k: 5 })).toThrow(/Scaled: argument 'k' expected an integer in \[1, 4\]/);
    expect(() => resolveArgs('Scaled', scaledTable, { numExperts: 4, std: -1 })).toThrow("Scaled: argument 'std' expected a finite number ≥ 0, got -1");
    expect(() => resolveArgs('Scaled', scaledTable, { numExperts: 4, noise: 'gumbel' as 'none' })).toThrow(/argument 'noise' expected one of/);
    expect(() => resolveArgs('Scaled', scaledTable, {} as ScaledArgs)).toThrow("Scaled: argument 'numExperts' expected an integer ≥ 1, got undefined");
    expect(() => resolveArgs('Scaled', scaledTable, { numExperts: 4, topK: 2 } as ScaledArgs)).toThrow(/unknown option 'topK'/);
  });
});

describe('Component (variables, dispose, nested save and load)', () => {
  it('names its variables, nested ones under the argument that holds them', () => {
    const router = new ForwardingRouter({ router: new GatedRouter({ gate: new LinearGate({ numOutputs: 3, inputDim: 2 }), algorithm: new LinearTopKRouterAlgorithmStub(3) }) });
    expect(router.namedVariables().map(([path, v]) => [path, v.shape])).toEqual([['router/gate/kernel', [2, 3]]]);
    expect(router.trainableVariables).toHaveLength(1);
    router.dispose();
  });

  it('releases every variable once, nested included, and names a use after dispose', async () => {
    const x = tf.zeros([1, 2]) as tf.Tensor2D;
    await expectNoLeakedTensors(() => {
      const router = new ForwardingRouter({ router: new LinearTopKRouter({ inputDim: 2, numExperts: 2 }) });
      router.dispose();
      router.dispose(); // a second call is a no-op
      expect(() => router.route(x, { training: false })).toThrow(MoEDisposedError);
      expect(() => router.route(x, { training: false })).toThrow('TestForwardingRouter.route: this TestForwardingRouter was disposed');
    });
    x.dispose();
    const gate = new LinearGate({ numOutputs: 2, inputDim: 2 });
    gate.dispose();
    expect(() => gate.gateWeights()).toThrow('LinearGate.gateWeights: this LinearGate was disposed');
  });

  it('names and disposes the parts a component builds itself', async () => {
    class TwoGates extends Component<{ numOutputs: number }> {
      static readonly className = 'TestTwoGates';
      static readonly argsTable: ArgsTable<{ numOutputs: number }> = { numOutputs: arg.integer({ min: 1 }) };
      readonly first = this.addPart('first', new LinearGate({ numOutputs: this.config.numOutputs, inputDim: 2 }));
      readonly second = this.addPart('second', new LinearGate({ numOutputs: this.config.numOutputs, inputDim: 3 }));
    }
    await expectNoLeakedTensors(() => {
      const two = new TwoGates({ numOutputs: 4 });
      expect(two.namedVariables().map(([path, v]) => [path, v.shape])).toEqual([['first/kernel', [2, 4]], ['second/kernel', [3, 4]]]);
      expect(two.getConfig()).toEqual({ numOutputs: 4 }); // parts are rebuilt by the constructor, not saved
      two.dispose();
      expect(two.first.isDisposed && two.second.isDisposed).toBe(true);
    });
  });

  it('saves a wrapper with the component it wraps and loads it back (nested config, package named)', () => {
    const router = new ForwardingRouter({ router: new LinearTopKRouter({ inputDim: 2, numExperts: 3, k: 2, seed: 5 }), note: 'n' });
    const saved = JSON.parse(JSON.stringify(componentConfig(router, 'test', 'router')));
    expect(saved).toEqual({
      className: 'TestForwardingRouter',
      package: '@moekit/core (tests)',
      config: { note: 'n', router: { className: 'LinearTopKRouter', package: '@moekit/core/testing', config: { inputDim: 2, numExperts: 3, k: 2, balanceWeight: 0.01, seed: 5 } } },
    });
    const loaded = fromComponentConfig<ForwardingRouter>(saved, 'test', 'router');
    expect(loaded).toBeInstanceOf(ForwardingRouter);
    expect(loaded.router).toBeInstanceOf(LinearTopKRouter);
    expect([loaded.numExperts, loaded.k, loaded.config.note]).toEqual([3, 2, 'n']);
    router.dispose();
    loaded.dispose();
  });

  it('names the package to import when a saved class is not registered', () => {
    expect(() => fromComponentConfig({ className: 'NotLoadedRouter', package: '@moekit/router-elsewhere', config: {} }, 'MoELayer.fromConfig', 'router')).toThrow(
      "MoELayer.fromConfig: argument 'router.className' expected a registered component class (import '@moekit/router-elsewhere' before loading), got 'NotLoadedRouter'",
    );
    expect(() => registerComponent(class extends ForwardingRouter {}, 'another-package')).toThrow(/already registered by @moekit\/core \(tests\)/);
  });

  it('cannot be tricked into an Object member or a class by a non-string className', () => {
    // moekit's registry is a Map; tf.serialization's is a plain object, so only its own entries count
    for (const className of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf', 'isPrototypeOf']) {
      expect(() => fromComponentConfig({ className, package: '@moekit/router-topk', config: {} }, 'MoELayer.fromConfig', 'router')).toThrow(
        `MoELayer.fromConfig: argument 'router.className' expected a registered component class (import '@moekit/router-topk' before loading), got '${className}'`,
      );
    }
    // ['LinearTopKRouter'] is not the name 'LinearTopKRouter', although a plain-object lookup reads it as one
    expect(() => fromComponentConfig({ className: ['LinearTopKRouter'], config: {} }, 'MoELayer.fromConfig', 'router')).toThrow(
      "MoELayer.fromConfig: argument 'router.className' expected a class name (a string), got [LinearTopKRouter]",
    );
    expect(() => fromComponentConfig(undefined, 'MoELayer.fromConfig', 'router')).toThrow("MoELayer.fromConfig: argument 'router.className' expected a class name (a string), got undefined");
  });
});

describe('capabilities', () => {
  it('are declared per class and followed by wrappers (which do not select experts themselves)', () => {
    const inner = new LinearTopKRouter({ inputDim: 2, numExperts: 2 });
    expect([...inner.capabilities].sort()).toEqual(['excludedExperts', 'gateWeights', 'selectExperts']);
    const wrapper = new ForwardingRouter({ router: inner });
    expect([...wrapper.capabilities].sort()).toEqual(['excludedExperts', 'gateWeights']);
    expect(hasCapability(wrapper, 'selectExperts')).toBe(false);
    const weights = wrapper.gateWeights();
    expect(weights.shape).toEqual([2, 2]);
    weights.dispose();
    expect(() => requireCapability(wrapper, 'selectExperts', 'keepExperts', 'router')).toThrow(
      "keepExperts: argument 'router' expected a component with the 'selectExperts' capability, got TestForwardingRouter (capabilities: excludedExperts, gateWeights)",
    );
    expect(() => requireCapability({} as Router, 'gateWeights', 'routerChangeScores', 'router')).toThrow(MoEArgumentError);
    wrapper.dispose();
  });
});

/** A stateless top-1 algorithm over `numExperts` scores (no Component: plain objects still nest). */
class LinearTopKRouterAlgorithmStub extends tf.serialization.Serializable {
  static readonly className = 'TestTop1Stub';
  readonly k = 1;
  constructor(readonly numExperts: number) {
    super();
  }
  route(): RouterOutput {
    throw new Error('not routed in these tests');
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { numExperts: this.numExperts };
  }
}

void Component;
