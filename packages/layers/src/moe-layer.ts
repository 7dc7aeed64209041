import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { componentConfig, describeValue, fromComponentConfig, MixtureOfExperts, MoEArgumentError, type ExpertBank, type MixtureOfExpertsArgs, type Router, type RoutingMetrics, type SharedBranch } from '@moekit/core';
import { bankOwner, leaveBank, sharedBankFromConfig, useBank } from './expert-bank-sharing.js';
import { ForwardedWeight } from './forwarded-weight.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/** Configuration of a {@link MoELayer}: the MoE's components and options, plus tfjs-layers' own (`name`, `inputShape`, …). */
export interface MoELayerArgs extends LayerArgs, Omit<MixtureOfExpertsArgs, 'combiner' | 'name'> {
  /**
   * What each routing decision covers for an input `[B, S, D]`: `'position'` (default) routes every
   * position (the MoE "applied convolutionally" between sequence layers); `'sample'` routes each
   * sample whole on the mean over its positions (experts receive `[E, C, S, D]`; a bank that acts on
   * the last axis, such as `FeedForwardExperts`, runs the chosen expert on each of the sample's
   * positions). Inputs `[B, D]` are routed per sample either way. Unnamed layers are named `moe`,
   * `moe_1`, `moe_2`, … (per process).
   */
  routeOver?: 'position' | 'sample';
}

// the MoE's own options, passed to MixtureOfExperts
const MOE_OPTIONS = ['capacity', 'renormalize', 'secondChoiceOffset', 'slotOrder', 'checkFinite', 'layout', 'droppedTokens', 'dropWarning', 'expertOutputMasking', 'finalOutputMasking'];
// moekit 0.1's flat capacity names: passed on too, so MixtureOfExperts can say what replaced them (not listed as known)
const FLAT_CAPACITY_OPTIONS = ['capacityFactorTrain', 'capacityFactorEval', 'capacityPreset', 'capacityRounding', 'capacityMultiplyByK', 'capacityMultipleOf', 'minCapacity'];
// tfjs-layers' LayerArgs (@tensorflow/tfjs-layers 4.22 engine/topology.d.ts), passed to the Layer base
const LAYER_ARGS = ['inputShape', 'batchInputShape', 'batchSize', 'dtype', 'name', 'trainable', 'weights', 'inputDType'];
const KNOWN_OPTIONS = ['router', 'experts', 'shared', 'routeOver', ...MOE_OPTIONS, ...LAYER_ARGS];

// unnamed MoE layers so far: the first is `moe`, then `moe_1`, `moe_2`, … (unique per process, as tfjs-layers' own names)
let unnamedLayers = 0;

/** The default name of the next unnamed {@link MoELayer}: `moe`, `moe_1`, `moe_2`, …. */
function nextDefaultName(): string {
  const n = unnamedLayers++;
  return n === 0 ? 'moe' : `moe_${n}`;
}

/**
 * The tfjs-layers adapter of {@link MixtureOfExperts}: an MoE that works in `tf.sequential()` and
 * `tf.model()`, trains with `model.fit` (the router's weighted aux loss is added to the model's loss
 * through `addLoss`), takes its width from the input in `build`, forwards the router's, experts' and
 * shared branch's variables as its own weights by name (`moe/router/kernel`, `moe/experts/w1`, like
 * tfjs-layers' `Wrapper`), and saves and loads with the model (`getConfig` nests each component's
 * registered class name, package and config). `[B, S, D]` inputs are routed per position (or per sample),
 * `[B, D]` per sample. After each call, `lastMetrics` holds the load, drops and entropy of that batch.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { MoELayer } from '@moekit/layers';
 * import { TopKRouter } from '@moekit/router-topk';
 * import { FeedForwardExperts } from '@moekit/experts-ffn';
 *
 * const model = tf.sequential();
 * model.add(tf.layers.dense({ units: 32, inputShape: [16], activation: 'relu' }));
 * // router and experts take their width (32) from the previous layer; a bank built for another width is an error here
 * model.add(new MoELayer({ router: new TopKRouter({ numExperts: 8, k: 2 }), experts: new FeedForwardExperts({ numExperts: 8, hiddenDim: 64 }) }));
 * model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
 * model.summary(); // moe (MoELayer)  [null,32]  …
 * ```
 */
export class MoELayer extends tfl.layers.Layer {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'MoELayer';
  /** The functional MoE this layer wraps. */
  readonly moe: MixtureOfExperts;
  /** What a routing decision covers for `[B, S, D]` inputs. */
  readonly routeOver: 'position' | 'sample';
  /** The metrics of the latest call (`undefined` before the first). */
  get lastMetrics(): RoutingMetrics | undefined {
    return this.moe.lastMetrics;
  }
  private currentAuxLoss: tf.Scalar | undefined;
  private readonly moeOptions: Partial<MixtureOfExpertsArgs>;

  /**
   * Builds the MoE from its components; weights are adopted when the layer is built. An option that
   * is neither the MoE's, `routeOver` nor one of tfjs-layers' `LayerArgs` is an error naming it (a
   * misspelt `capacityFactr` is never silently ignored by the Layer base).
   */
  constructor(args: MoELayerArgs) {
    if (typeof args !== 'object' || args === null) {
      throw new MoEArgumentError('MoELayer', 'args', 'an options object ({ router, experts, … })', describeValue(args));
    }
    for (const key of Object.keys(args)) {
      if (!KNOWN_OPTIONS.includes(key) && !FLAT_CAPACITY_OPTIONS.includes(key)) {
        throw new MoEArgumentError('MoELayer', key, `one of the known options (${KNOWN_OPTIONS.join(', ')})`, `unknown option '${key}'`);
      }
    }
    const { router, experts, shared, routeOver, ...rest } = args;
    const moeOptions: Record<string, unknown> = {};
    const layerArgs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rest)) (LAYER_ARGS.includes(key) ? layerArgs : moeOptions)[key] = value;
    if (layerArgs['name'] === undefined) layerArgs['name'] = nextDefaultName();
    super(layerArgs as LayerArgs);
    this.routeOver = routeOver ?? 'position';
    if (!['position', 'sample'].includes(this.routeOver)) {
      throw new MoEArgumentError('MoELayer', 'routeOver', "one of 'position' | 'sample'", `'${this.routeOver}'`);
    }
    this.moeOptions = moeOptions as Partial<MixtureOfExpertsArgs>;
    this.moe = new MixtureOfExperts({ router, experts, ...(shared ? { shared } : {}), ...this.moeOptions, name: this.name });
    useBank(experts, this); // the same bank in several layers: one owner, counted users (Bai et al. 2022, §2.3)
    this.supportsMasking = false;
    // fit evaluates the thunk after the forward pass of the same step (TFJS-NOTES.md): register once
    this.addLoss(() => this.auxLoss ?? tf.scalar(0));
  }

  /** The router's weighted aux loss of the latest call, while its step is alive (else `undefined`). */
  get auxLoss(): tf.Scalar | undefined {
    return this.currentAuxLoss !== undefined && !this.currentAuxLoss.isDisposed ? this.currentAuxLoss : undefined;
  }

  /** The router. */
  get router(): Router {
    return this.moe.router;
  }

  /** The expert bank. */
  get experts(): ExpertBank {
    return this.moe.experts;
  }

  /**
   * The name of the layer that owns this layer's expert bank when the bank is shared with an earlier
   * layer (its variables are that layer's weights, saved once); `undefined` when this layer owns it.
   */
  get sharesExpertsWith(): string | undefined {
    const owner = bankOwner(this.experts);
    return owner === undefined || owner === this ? undefined : owner.name;
  }

  /**
   * Builds the MoE for the input's width (lazily built routers and expert banks take it from here, as
   * `tf.layers.dense` does; a router or bank already built for another width is an error naming the
   * layer, the input shape and the built one) and forwards every component variable as a weight of this layer, named by
   * its path: `<layer>/router/kernel`, `<layer>/experts/w1`, `<layer>/shared/w1` (non-trainable state,
   * such as an aux-loss-free bias, as a non-trainable weight). The variables stay the components'.
   */
  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const width = shape[shape.length - 1];
    if (typeof width !== 'number') throw new MoEArgumentError('MoELayer.build', 'inputShape', 'a known last dimension', `[${shape.join(', ')}]`);
    const featureAxes = this.routeOver === 'sample' && shape.length > 2 ? shape.length - 1 : 1;
    const featureShape = shape.slice(shape.length - featureAxes);
    if (featureShape.some((d) => typeof d !== 'number')) throw new MoEArgumentError('MoELayer.build', 'inputShape', 'known feature dimensions', `[${shape.join(', ')}]`);
    // a router or bank built for another width is an error here, when the layer is added to a model, not at fit
    this.moe.build(featureShape as number[], width, `MoELayer '${this.name}'.build (input shape [${shape.map((d) => d ?? 'null').join(', ')}])`);
    // a bank shared with an earlier layer is that layer's weight: forwarded (counted, trained, saved) once
    const shared = this.sharesExpertsWith !== undefined;
    const weights = this.moe.namedVariables().filter(([path]) => !(shared && path.startsWith('experts/'))).map(([path, variable]) => new ForwardedWeight(variable, path));
    this.trainableWeights = weights.filter((w) => w.trainable);
    this.nonTrainableWeights = weights.filter((w) => !w.trainable);
    this.built = true;
  }

  /** `[..., D]` → `[..., D']` with the expert bank's output width. */
  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const featureAxes = this.routeOver === 'sample' && shape.length > 2 ? shape.length - 1 : 1;
    const features = shape.slice(shape.length - featureAxes) as number[];
    const out = this.experts.outputFeatureShape?.(features) ?? features;
    return [...shape.slice(0, shape.length - featureAxes), ...out];
  }

  /** Routes the input through the MoE; `kwargs.training` selects training noise and capacity. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const training = kwargs?.training ?? false; // tfjs-layers passes true inside fit
    const gateInput = this.routeOver === 'sample' && x.rank > 2 ? tf.mean(x, Array.from({ length: x.rank - 2 }, (_, i) => i + 1)) : undefined;
    const result = this.moe.apply(x, { training, ...(gateInput ? { gateInput } : {}) });
    gateInput?.dispose();
    for (const [name, loss] of Object.entries(result.auxLosses)) if (name !== 'total') loss.dispose();
    // the previous call's loss: already released by the step that made it, or (called eagerly) released here
    if (this.currentAuxLoss !== undefined && !this.currentAuxLoss.isDisposed) this.currentAuxLoss.dispose();
    this.currentAuxLoss = result.auxLosses.total;
    return result.output;
  }

  /**
   * Releases the layer's weights (tfjs-layers) and, once no model holds the layer, its components
   * too: their non-trainable state (an aux-loss-free bias) and the unread metrics. An expert bank
   * shared with other layers is released only by the last of them to be disposed.
   */
  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) this.releaseComponents();
    return result;
  }

  /**
   * Releases the MoE's components (a shared expert bank only when this is its last user); idempotent.
   * For layers that hold this one and call it directly (such as `TransformerMoEBlock`), whose
   * `dispose` tfjs-layers never reaches here.
   */
  releaseComponents(): void {
    if (this.currentAuxLoss !== undefined && !this.currentAuxLoss.isDisposed) this.currentAuxLoss.dispose(); // an eager call's loss
    if (this.moe.isDisposed) return;
    this.moe.dispose({ keepExperts: leaveBank(this.experts, this) });
  }

  /** The components' class names and configs, the MoE options and the layer's own config. */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      ...(this.moeOptions as tf.serialization.ConfigDict),
      routeOver: this.routeOver,
      router: componentConfig(this.router, 'MoELayer.getConfig', 'router') as unknown as tf.serialization.ConfigDict,
      // a shared bank is saved once, by its owner; the others name it (Bai et al. 2022)
      experts: (this.sharesExpertsWith !== undefined
        ? { sharedWith: { name: this.sharesExpertsWith } } // under `name`: tfjs-layers camel-cases every other string value on load
        : componentConfig(this.experts, 'MoELayer.getConfig', 'experts')) as unknown as tf.serialization.ConfigDict,
      ...(this.moe.shared ? { shared: componentConfig(this.moe.shared, 'MoELayer.getConfig', 'shared') as unknown as tf.serialization.ConfigDict } : {}),
    };
  }

  /**
   * Rebuilds the layer, its router, experts and shared branch from the serialisation registry; experts
   * saved as `{ sharedWith: { name } }` are the bank of the layer of that name loaded before this one.
   */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    // customObjects: tfjs-layers' deserialisation context, put into every config it loads; not an option
    const { router, experts, shared, customObjects: _context, ...rest } = config;
    return new cls({
      ...rest,
      router: fromComponentConfig<Router>(router, 'MoELayer.fromConfig', 'router'),
      experts: sharedBankFromConfig(experts) ?? fromComponentConfig<ExpertBank>(experts, 'MoELayer.fromConfig', 'experts'),
      ...(shared ? { shared: fromComponentConfig<SharedBranch>(shared, 'MoELayer.fromConfig', 'shared') } : {}),
    });
  }
}

