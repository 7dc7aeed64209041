import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * A tfjs-layers weight that IS a component's variable: `read()` returns it, `write()` assigns into
 * it, so `fit`, `getWeights`/`setWeights`, `save` and `loadLayersModel` reach the router's and the
 * experts' own variables — the way tfjs-layers' `Wrapper` forwards its inner layer's weights. The
 * component owns the variable: `dispose()` here releases nothing (the layer disposes its MoE).
 * Built only from tfjs-layers' public `LayerVariable` API (its constructor's throw-away copy of the
 * handle is released at once; no tensor data is copied).
 */
export class ForwardedWeight extends tfl.LayerVariable {
  private readonly target: tf.Variable;

  /** Forwards `target` under `name` (scoped by the layer being built, e.g. `moe/router/kernel`). */
  constructor(target: tf.Variable, name: string) {
    super(target, target.dtype, name, target.trainable);
    this.target = target;
    super.dispose(); // the base made its own variable over the same data; only `target` is kept
  }

  /** The component's variable itself. */
  override read(): tf.Tensor {
    this.assertNotDisposed();
    return this.target;
  }

  /** Assigns `value` into the component's variable (shapes must match). */
  override write(value: tf.Tensor): this {
    this.assertNotDisposed();
    if (value.shape.length !== this.target.shape.length || value.shape.some((d, i) => d !== this.target.shape[i])) {
      throw new Error(`ForwardedWeight ${this.name}: shape [${value.shape.join(', ')}] does not match the variable's [${this.target.shape.join(', ')}]`);
    }
    if (value.id !== this.target.id) this.target.assign(value);
    return this;
  }

  /** Nothing: the component that made the variable releases it. */
  override dispose(): void {}

  /** Throws once the component's variable is released. */
  protected override assertNotDisposed(): void {
    if (this.target.isDisposed) throw new Error(`ForwardedWeight ${this.name}: its component was disposed`);
  }

  /** Whether the optimiser trains it (kept in step with the component's variable). */
  override get trainable(): boolean {
    return super.trainable;
  }

  override set trainable(trainable: boolean) {
    super.trainable = trainable;
    if (this.target !== undefined) this.target.trainable = trainable;
  }
}
