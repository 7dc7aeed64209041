import { MoEArgumentError } from '@moekit/core';
import type { FeedForwardKind, TokenMixingKind } from './sparse-mixer-block.js';

/** Where the "replacement" layers (attention among mixing layers, MoE among dense FFNs) sit in the stack — the reference's `LayerLayout`. */
export type LayerLayout = 'bottom' | 'middle' | 'mixed' | 'top';

/** Arguments of {@link sparseMixerLayout}. */
export interface SparseMixerLayoutArgs {
  /** Encoder blocks `L` (≥ 1). */
  numLayers: number;
  /** Mixing of the layers that are not attention. Default `'linear'`. */
  mixing?: Exclude<TokenMixingKind, 'attention'>;
  /** Layers whose mixing sublayer is self-attention (0 … L). Default 0. */
  numAttentionLayers?: number;
  /** Where they sit. Default `'top'` (the reference's `attention_layout`). */
  attentionLayout?: LayerLayout;
  /** Layers whose FFN is a sparse MoE (0 … L). Default 0. */
  numMoeLayers?: number;
  /** Where they sit. Default `'middle'` (the reference's `moe_layout`). */
  moeLayout?: LayerLayout;
}

/** One block's sublayers, as {@link SparseMixerBlockArgs}' `mixing` and `feedForward`. */
export interface SparseMixerLayerKind {
  /** The mixing sublayer. */
  mixing: TokenMixingKind;
  /** The feed-forward sublayer. */
  feedForward: FeedForwardKind;
}

/**
 * Whether layer `layer` of `numLayers` is one of the `count` replacement layers placed by `layout` —
 * the reference's `_is_replacement_layer` (google-research/google-research `sparse_mixers/models.py` at
 * 4c42994): bottom `l < n`; middle `L − n ≤ 2l < L + n`; mixed every `⌊L/n⌋`-th layer from 0; top `l ≥ L − n`.
 */
function isReplacementLayer(layer: number, numLayers: number, count: number, layout: LayerLayout): boolean {
  if (count === 0) return false;
  switch (layout) {
    case 'bottom':
      return layer < count;
    case 'middle':
      return numLayers - count <= 2 * layer && 2 * layer < numLayers + count;
    case 'mixed':
      return layer % Math.floor(numLayers / count) === 0;
    case 'top':
      return layer >= numLayers - count;
  }
}

/**
 * The per-layer sublayers of a Sparse Mixer encoder (Lee-Thorp & Ainslie 2022, §3–4,
 * https://arxiv.org/abs/2205.12399): mixing everywhere except `numAttentionLayers` attention layers,
 * dense FFNs everywhere except `numMoeLayers` MoE layers, each group placed by its layout as in the
 * reference's `EncoderModel`. Sparse Mixer Base is `{ numLayers: 14, numAttentionLayers: 4,
 * attentionLayout: 'top', numMoeLayers: 4, moeLayout: 'middle' }` (README and `configs/base.py`):
 * layers 5–8 MoE, 10–13 attention.
 *
 * @example
 * ```ts
 * sparseMixerLayout({ numLayers: 4, numAttentionLayers: 1, numMoeLayers: 2 });
 * // [{ mixing: 'linear', feedForward: 'dense' }, { mixing: 'linear', feedForward: 'moe' },
 * //  { mixing: 'linear', feedForward: 'moe' }, { mixing: 'attention', feedForward: 'dense' }]
 * ```
 */
export function sparseMixerLayout(args: SparseMixerLayoutArgs): SparseMixerLayerKind[] {
  const where = 'sparseMixerLayout';
  const { numLayers, mixing = 'linear', numAttentionLayers = 0, attentionLayout = 'top', numMoeLayers = 0, moeLayout = 'middle' } = args;
  if (!Number.isInteger(numLayers) || numLayers < 1) throw new MoEArgumentError(where, 'numLayers', 'an integer ≥ 1', String(numLayers));
  for (const [name, value] of [['numAttentionLayers', numAttentionLayers], ['numMoeLayers', numMoeLayers]] as const) {
    if (!Number.isInteger(value) || value < 0 || value > numLayers) throw new MoEArgumentError(where, name, `an integer in [0, ${numLayers}] (numLayers)`, String(value));
  }
  const layouts: readonly string[] = ['bottom', 'middle', 'mixed', 'top'];
  for (const [name, value] of [['attentionLayout', attentionLayout], ['moeLayout', moeLayout]] as const) {
    if (!layouts.includes(value)) throw new MoEArgumentError(where, name, `one of ${layouts.join(', ')}`, String(value));
  }
  if (mixing !== 'linear' && mixing !== 'fourier') throw new MoEArgumentError(where, 'mixing', 'linear or fourier', String(mixing));
  return Array.from({ length: numLayers }, (_, layer) => ({
    mixing: isReplacementLayer(layer, numLayers, numAttentionLayers, attentionLayout) ? 'attention' : mixing,
    feedForward: isReplacementLayer(layer, numLayers, numMoeLayers, moeLayout) ? 'moe' : 'dense',
  }));
}
