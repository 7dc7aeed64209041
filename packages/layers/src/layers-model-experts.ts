import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { arg, Component, describeValue, MoEArgumentError, type ArgsTable, type ExpertApplyOptions, type ExpertBank, type NamedVariable } from '@moekit/core';

/** Configuration of a {@link LayersModelExperts} bank. */
export interface LayersModelExpertsArgs {
  /**
   * The experts: `E` ≥ 1 whole `tf.LayersModel`s (sequential or functional, each with one input and
   * one output), free to differ inside — depth, widths, layer kinds — but all mapping the same
   * per-sample input shape `[...in]` to the same per-sample output shape `[...out]`. The bank takes
   * ownership: it disposes them with itself.
   */
  models: tfl.LayersModel[];
}

/** A saved expert: its tfjs-layers class name and `getConfig()` (the topology, no weights). */
export interface SavedExpertTopology {
  /** The model's registered class (`'Sequential'`, `'Model'`). */
  className: string;
  /** The model's `getConfig()`. */
  config: tf.serialization.ConfigDict;
}

/** The `format` of the artifacts {@link LayersModelExperts.save} writes. */
export const LAYERS_MODEL_EXPERTS_FORMAT = 'moekit-layers-model-experts';

/** A model's per-sample shape (`[...in]` of `[null, ...in]`), or `undefined` when a dimension is unknown. */
function sampleShape(shape: tfl.Shape): number[] | undefined {
  const rest = shape.slice(1);
  return rest.every((d) => typeof d === 'number') ? (rest as number[]) : undefined;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Checks `models` (the constructor's argument): ≥ 1 `LayersModel`s, one input and one output each, every per-sample shape equal to the first model's. */
function checkModels(where: string, name: string, models: unknown): void {
  if (!Array.isArray(models) || models.length === 0) throw new MoEArgumentError(where, name, 'a non-empty array of tf.LayersModel', describeValue(models));
  let first: { input: number[]; output: number[] } | undefined;
  models.forEach((model: unknown, i) => {
    const at = `${name}[${i}]`;
    if (!(model instanceof tfl.LayersModel)) throw new MoEArgumentError(where, at, 'a tf.LayersModel', describeValue(model));
    if (model.inputs.length !== 1 || model.outputs.length !== 1) {
      throw new MoEArgumentError(where, at, 'a model with one input and one output', `${model.inputs.length} inputs and ${model.outputs.length} outputs`);
    }
    const input = sampleShape(model.inputs[0]!.shape);
    const output = sampleShape(model.outputs[0]!.shape);
    if (input === undefined || output === undefined) {
      throw new MoEArgumentError(where, at, 'known per-sample input and output shapes', `input [${model.inputs[0]!.shape.join(', ')}] → output [${model.outputs[0]!.shape.join(', ')}]`);
    }
    if (first === undefined) first = { input, output };
    else if (!sameShape(input, first.input) || !sameShape(output, first.output)) {
      throw new MoEArgumentError(where, at, `input [null, ${first.input.join(', ')}] → output [null, ${first.output.join(', ')}] (${name}[0]'s)`, `input [null, ${input.join(', ')}] → output [null, ${output.join(', ')}]`);
    }
  });
}

/**
 * An expert bank whose experts are whole `tf.LayersModel`s — heterogeneous inside, with matching
 * input and output shapes — sparsely gated per input by any moekit router. This is the mixture of
 * MoE-VRD (Shaabana, Gharaee & Fieguth, "Video Relationship Detection Using Mixture of Experts",
 * arXiv:2403.03994, §3): several small, complete models instead of one monolithic one, each input
 * sent by a sparse gate to its top-k models, whose outputs are summed with the gate's weights,
 * y = Σ_{i ∈ TopK(x)} G(x)_i · E_i(x) (the sparsely-gated layer of Shazeer et al. 2017, Eq. 1, with
 * its noisy top-k gate, Eq. 3–5, which MoE-VRD adopts).
 *
 * Each expert runs only on the rows routed to it (its `[C, ...in]` buffer, or its group of rows in the
 * grouped layout). The models' weights are the bank's variables (`<i>/<weight name>`), so
 * `MixtureOfExperts` trains them and `MoELayer` forwards, saves and loads them with the outer model;
 * `getConfig` holds each model's topology, so a saved ensemble reloads as the same function.
 * {@link LayersModelExperts.save} / {@link LayersModelExperts.load} save the bank on its own.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { LayersModelExperts, MoELayer } from '@moekit/layers';
 * import { TopKRouter } from '@moekit/router-topk';
 *
 * const mlp = (hidden: number[]) => { // a small classifier, [B, 64] → [B, 10]
 *   const m = tf.sequential();
 *   hidden.forEach((units, i) => m.add(tf.layers.dense({ units, activation: 'relu', ...(i === 0 ? { inputShape: [64] } : {}) })));
 *   m.add(tf.layers.dense({ units: 10 }));
 *   return m;
 * };
 * const experts = new LayersModelExperts({ models: [mlp([32]), mlp([16, 16]), mlp([48])] }); // heterogeneous
 * const model = tf.sequential({ layers: [new MoELayer({ inputShape: [64], router: new TopKRouter({ numExperts: 3, k: 1 }), experts })] });
 * model.predict(tf.zeros([2, 64])); // [2, 10]
 * ```
 */
export class LayersModelExperts extends Component<LayersModelExpertsArgs> implements ExpertBank {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'LayersModelExperts';
  /** The arguments: the models, checked for one input and one output each and matching shapes. */
  static readonly argsTable: ArgsTable<LayersModelExpertsArgs> = {
    models: arg.value<tfl.LayersModel[]>({ expected: 'a non-empty array of tf.LayersModel', check: checkModels }),
  };

  /** Validates the models (a {@link MoEArgumentError} naming `models[i]` for a model of another shape). */
  constructor(args: LayersModelExpertsArgs) {
    super(args);
  }

  /** The expert models, in expert order. */
  get models(): readonly tfl.LayersModel[] {
    return this.config.models;
  }

  /** Experts `E`. */
  get numExperts(): number {
    return this.config.models.length;
  }

  /** The per-sample input shape `[...in]` every model takes. */
  get inputFeatureShape(): number[] {
    return sampleShape(this.config.models[0]!.inputs[0]!.shape)!;
  }

  /** `[...in]` → `[...out]`, the models' per-sample output shape. */
  outputFeatureShape(_inputFeatureShape?: number[]): number[] {
    return sampleShape(this.config.models[0]!.outputs[0]!.shape)!;
  }

  /** Every model's weights as `<expert>/<weight name>` (`0/dense_Dense1/kernel`); non-trainable ones (batch-norm statistics) included. */
  override namedVariables(): NamedVariable[] {
    const named: NamedVariable[] = [];
    this.config.models.forEach((model, i) => {
      const seen = new Set<string>();
      model.weights.forEach((weight, j) => {
        const path = seen.has(weight.originalName) ? `${i}/${weight.originalName}_${j}` : `${i}/${weight.originalName}`;
        seen.add(weight.originalName);
        named.push([path, weight.read() as tf.Variable]); // LayerVariable.read() is the model's own tf.Variable
      });
    });
    return named;
  }

  /** Parameters of each expert, in expert order (they differ: the experts are heterogeneous). */
  get parametersPerExpert(): number[] {
    return this.config.models.map((model) => model.countParams());
  }

  /** Checks `t`'s per-row shape (from axis `fromAxis` on) against the models' input shape. */
  private checkRows(where: string, name: string, t: tf.Tensor, fromAxis: number, expected: string): void {
    this.assertLive(where);
    if (!sameShape(t.shape.slice(fromAxis), this.inputFeatureShape)) throw new MoEArgumentError(where, name, expected, `shape [${t.shape.join(', ')}]`);
  }

  /**
   * Padded buffers `[E, C, ...in]` → `[E, C, ...out]`: expert `e`'s model applied to its own buffer
   * `[C, ...in]` (one call per expert; a heterogeneous bank has no batched matMul).
   */
  apply(dispatched: tf.Tensor, options?: ExpertApplyOptions): tf.Tensor {
    const where = 'LayersModelExperts.apply';
    const E = this.numExperts;
    const expected = `shape [${E}, C, ${this.inputFeatureShape.join(', ')}]`;
    if (dispatched.rank < 2 || dispatched.shape[0] !== E) throw new MoEArgumentError(where, 'dispatched', expected, `shape [${dispatched.shape.join(', ')}]`);
    this.checkRows(where, 'dispatched', dispatched, 2, expected);
    const training = options?.training ?? false;
    return tf.tidy(() => {
      const buffers = tf.unstack(dispatched); // E × [C, ...in]
      const outputs = buffers.map((x, e) => this.config.models[e]!.apply(x, { training }) as tf.Tensor); // E × [C, ...out]
      return tf.stack(outputs); // [E, C, ...out]
    });
  }

  /**
   * Grouped rows `[N, ...in]`, expert `e` owning the next `groupSizes[e]` (possibly 0) → `[N, ...out]`:
   * each model runs only on its own rows; an expert with no rows is not called.
   */
  applyGrouped(rows: tf.Tensor, groupSizes: number[], options?: ExpertApplyOptions): tf.Tensor {
    const where = 'LayersModelExperts.applyGrouped';
    const total = groupSizes.reduce((a, b) => a + b, 0);
    const expected = `shape [${total}, ${this.inputFeatureShape.join(', ')}] with ${this.numExperts} group sizes`;
    if (rows.rank < 1 || rows.shape[0] !== total || groupSizes.length !== this.numExperts) {
      throw new MoEArgumentError(where, 'rows', expected, `shape [${rows.shape.join(', ')}] with ${groupSizes.length}`);
    }
    this.checkRows(where, 'rows', rows, 1, expected);
    const training = options?.training ?? false;
    return tf.tidy(() => {
      if (total === 0) return tf.zeros([0, ...this.outputFeatureShape()]); // [0, ...out]
      const outputs: tf.Tensor[] = [];
      let start = 0;
      groupSizes.forEach((size, e) => {
        if (size > 0) {
          const group = tf.slice(rows, [start, ...rows.shape.slice(1).map(() => 0)], [size, ...rows.shape.slice(1)]); // [size, ...in]
          outputs.push(this.config.models[e]!.apply(group, { training }) as tf.Tensor); // [size, ...out]
        }
        start += size;
      });
      return outputs.length === 1 ? outputs[0]! : tf.concat(outputs, 0); // [N, ...out]
    });
  }

  /** Releases the models' weights, then the bank; a second call is a no-op. */
  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    for (const model of this.config.models) model.dispose();
  }

  /** The models' topologies (`{ className, config }` each, no weights): what `fromConfig` rebuilds. */
  override getConfig(): tf.serialization.ConfigDict {
    this.assertLive('LayersModelExperts.getConfig');
    const models: SavedExpertTopology[] = this.config.models.map((model) => ({ className: model.getClassName(), config: model.getConfig() }));
    return { models: models as unknown as tf.serialization.ConfigDictArray };
  }

  /**
   * Rebuilds the bank from {@link getConfig}: each model from its topology through tfjs-layers'
   * serialisation registry, with fresh weights (a model or `MoELayer` load then sets them; see
   * {@link load} for a bank saved on its own).
   */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const where = 'LayersModelExperts.fromConfig';
    const saved = config['models'];
    if (!Array.isArray(saved) || saved.length === 0) throw new MoEArgumentError(where, 'models', 'a non-empty array of saved model topologies', describeValue(saved));
    const classes = tf.serialization.SerializationMap.getMap().classNameMap;
    const models = (saved as unknown as SavedExpertTopology[]).map((topology, i) => {
      const entry = topology !== null && typeof topology === 'object' ? classes[topology.className] : undefined;
      if (entry === undefined) throw new MoEArgumentError(where, `models[${i}]`, 'a saved tf.LayersModel topology ({ className, config } of a registered model class)', describeValue(topology));
      const [modelClass, fromConfig] = entry;
      // a deep copy: Sequential.fromConfig deletes the `layers` field of the config it is given
      return fromConfig(modelClass, JSON.parse(JSON.stringify(topology.config)) as tf.serialization.ConfigDict) as unknown as tfl.LayersModel;
    });
    return new cls({ models });
  }

  /**
   * Saves the ensemble on its own — every model's topology and every weight, named by its path — to a
   * tfjs IO handler or URL (`tf.io.withSaveHandler`, `'indexeddb://…'`, `fileSystem` of `@moekit/platform`).
   */
  async save(handlerOrURL: tf.io.IOHandler | string): Promise<tf.io.SaveResult> {
    const where = 'LayersModelExperts.save';
    const handler = typeof handlerOrURL === 'string' ? tf.io.getSaveHandlers(handlerOrURL)[0] : handlerOrURL;
    if (handler?.save === undefined) throw new MoEArgumentError(where, 'handlerOrURL', 'an IO handler with save, or a URL with a registered save handler', describeValue(handlerOrURL));
    const { data, specs } = await tf.io.encodeWeights(this.namedVariables().map(([name, tensor]) => ({ name, tensor })));
    return handler.save({
      modelTopology: { className: LayersModelExperts.className, config: this.getConfig() } as unknown as tf.io.ModelArtifacts['modelTopology'],
      format: LAYERS_MODEL_EXPERTS_FORMAT,
      generatedBy: '@moekit/layers',
      convertedBy: null,
      weightSpecs: specs,
      weightData: data,
    });
  }

  /**
   * Loads an ensemble saved by {@link save}: rebuilds every model from its topology and assigns every
   * weight by path (a missing weight, or one of another shape, is an error naming it; nothing is left half-loaded).
   */
  static async load(handlerOrURL: tf.io.IOHandler | string): Promise<LayersModelExperts> {
    const where = 'LayersModelExperts.load';
    const handler = typeof handlerOrURL === 'string' ? tf.io.getLoadHandlers(handlerOrURL)[0] : handlerOrURL;
    if (handler?.load === undefined) throw new MoEArgumentError(where, 'handlerOrURL', 'an IO handler with load, or a URL with a registered load handler', describeValue(handlerOrURL));
    const artifacts = await handler.load();
    const topology = artifacts.modelTopology as { className?: string; config?: tf.serialization.ConfigDict } | undefined;
    if (artifacts.format !== LAYERS_MODEL_EXPERTS_FORMAT || topology?.className !== LayersModelExperts.className || topology.config === undefined) {
      throw new MoEArgumentError(where, 'handlerOrURL', `artifacts of format '${LAYERS_MODEL_EXPERTS_FORMAT}' (written by LayersModelExperts.save)`, `format ${describeValue(artifacts.format)}`);
    }
    if (artifacts.weightData === undefined || artifacts.weightSpecs === undefined) throw new MoEArgumentError(where, 'handlerOrURL', 'artifacts with weights', 'none');
    const bank = LayersModelExperts.fromConfig(LayersModelExperts as unknown as tf.serialization.SerializableConstructor<LayersModelExperts>, topology.config);
    const saved = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs); // path → tensor
    try {
      const named = bank.namedVariables();
      for (const [path, variable] of named) {
        const value = saved[path];
        if (value === undefined || !sameShape(value.shape, variable.shape)) {
          throw new MoEArgumentError(where, `weights['${path}']`, `a saved weight of shape [${variable.shape.join(', ')}]`, value === undefined ? 'missing' : `shape [${value.shape.join(', ')}]`);
        }
      }
      for (const [path, variable] of named) variable.assign(saved[path]!);
    } catch (error) {
      bank.dispose();
      throw error;
    } finally {
      tf.dispose(Object.values(saved));
    }
    return bank;
  }
}
