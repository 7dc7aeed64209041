import * as tfl from '@tensorflow/tfjs-layers';
import type { RoutingHealthSummary } from '@moekit/core';
import { MoELayer } from './moe-layer.js';

/** Options of {@link routingHealthCallback}. */
export interface RoutingHealthCallbackArgs {
  /** Where each epoch's line goes; `false` prints nothing (the values still reach the logs). Default `console.log`. */
  print?: ((line: string) => void) | false;
}

/** The per-epoch routing health of every MoE layer of the model, training and validation apart. */
export interface EpochRoutingHealth {
  /** 0-based epoch. */
  epoch: number;
  /** Per MoE layer (by name): its training summary and, when `fit` validates, its validation one. */
  layers: Record<string, LayerRoutingHealth>;
}

/** One MoE layer's routing health over an epoch. */
export interface LayerRoutingHealth {
  /** Over the epoch's training steps. */
  train?: RoutingHealthSummary;
  /** Over the epoch's validation (evaluation mode), when `fit` validates. */
  val?: RoutingHealthSummary;
}

/**
 * A `model.fit` callback that keeps routing health in view: it turns on `RoutingHealth` tracking
 * of every {@link MoELayer} in the model (nested models included), and at each epoch's end adds to
 * the logs — so to `History` and any later callback — the worst MoE layer's load CV
 * (`moe_load_cv`), dead experts (`moe_dead_experts`) and dropped fraction (`moe_dropped`), with
 * `val_` twins measured on the validation data, where routing runs without noise and can collapse
 * although training looked balanced. It prints one line per epoch and keeps every epoch's per-layer
 * summaries in `epochs`. One asynchronous read per layer and mode per epoch; none per step.
 *
 * @example
 * ```ts
 * import { routingHealthCallback } from '@moekit/layers';
 *
 * const health = routingHealthCallback();
 * await model.fit(x, y, { epochs: 5, validationData: [xv, yv], callbacks: [health] });
 * // epoch 5 · moe train: load CV 0.08, dead 0/8, dropped 3.1 % · val: load CV 0.21, dead 0/8, dropped 0.0 %
 * ```
 */
export class RoutingHealthCallback extends tfl.Callback {
  /** Every epoch's per-layer summaries, in order. */
  readonly epochs: EpochRoutingHealth[] = [];
  private readonly print: ((line: string) => void) | false;
  private layers: MoELayer[] = [];

  /** @param args where the per-epoch line goes */
  constructor(args: RoutingHealthCallbackArgs = {}) {
    super();
    this.print = args.print ?? ((line: string) => console.log(line));
  }

  /** Finds the model's MoE layers and starts tracking their routing. */
  override async onTrainBegin(): Promise<void> {
    this.layers = moeLayersOf(this.model.layers);
    for (const layer of this.layers) {
      layer.moe.health.reset();
      layer.moe.health.tracking = true;
    }
  }

  /** Reads each layer's training and validation health of the epoch and adds the worst layer's to `logs`. */
  override async onEpochEnd(epoch: number, logs?: tfl.Logs): Promise<void> {
    const record: EpochRoutingHealth = { epoch, layers: {} };
    for (const layer of this.layers) {
      record.layers[layer.name] = { train: await layer.moe.health.take('train'), val: await layer.moe.health.take('eval') };
    }
    this.epochs.push(record);
    const summaries = Object.values(record.layers);
    for (const [mode, prefix] of [['train', 'moe_'], ['val', 'val_moe_']] as const) {
      const present = summaries.map((s) => s[mode]).filter((s): s is RoutingHealthSummary => s !== undefined);
      if (present.length === 0 || logs === undefined) continue;
      logs[`${prefix}load_cv`] = Math.max(...present.map((s) => s.loadCv));
      logs[`${prefix}dead_experts`] = Math.max(...present.map((s) => s.deadExperts));
      logs[`${prefix}dropped`] = Math.max(...present.map((s) => s.droppedFraction));
    }
    if (this.print !== false) {
      for (const [name, s] of Object.entries(record.layers)) this.print(`epoch ${epoch + 1} · ${name} ${describeHealth('train', s.train)}${s.val ? ` · ${describeHealth('val', s.val)}` : ''}`);
    }
  }

  /** Stops tracking (what was not taken is dropped). */
  override async onTrainEnd(): Promise<void> {
    for (const layer of this.layers) layer.moe.health.dispose();
  }
}

/** Creates a {@link RoutingHealthCallback}, mirroring `tf.callbacks.earlyStopping(args)`. */
export function routingHealthCallback(args?: RoutingHealthCallbackArgs): RoutingHealthCallback {
  return new RoutingHealthCallback(args);
}

/** `"val: load CV 0.21, dead 0/8, dropped 0.0 %"`. */
export function describeHealth(label: string, s: RoutingHealthSummary | undefined): string {
  if (s === undefined) return `${label}: no calls`;
  return `${label}: load CV ${s.loadCv.toFixed(2)}, dead ${s.deadExperts}/${s.load.length}, dropped ${(100 * s.droppedFraction).toFixed(1)} %`;
}

function moeLayersOf(layers: tfl.layers.Layer[]): MoELayer[] {
  return layers.flatMap((layer) => {
    if (layer instanceof MoELayer) return [layer];
    const nested = (layer as unknown as { layers?: tfl.layers.Layer[] }).layers;
    return Array.isArray(nested) ? moeLayersOf(nested) : [];
  });
}
