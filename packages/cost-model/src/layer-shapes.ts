import { CostModelArgumentError, requireInteger, requirePositive } from './cost-model-error.js';

/**
 * The shapes of one MoE FFN layer as the cost model sees them (the glossary of `docs/architecture.md`:
 * D model width, H expert hidden width, E experts, K choices per token).
 */
export interface MoELayerShape {
  /** Tokens each GPU routes per step (its micro-batch × sequence length). */
  tokensPerGpu: number;
  /** Model width D. */
  modelDim: number;
  /** Expert hidden width H (one expert is `D → H → D`). */
  hiddenDim: number;
  /** Experts E in the layer (global). */
  numExperts: number;
  /** Choices per token K. */
  topK: number;
  /** Capacity factor f: each expert's buffer holds `f · K · T / E` rows (GShard Eq. 1 / Switch §2.1). */
  capacityFactor: number;
  /** Bytes per activation or parameter element (2 for bf16/fp16). Default 2. */
  bytesPerElement?: number;
  /** A training step (forward + backward) when true (default), a forward pass only when false. */
  training?: boolean;
}

/** Checks a layer shape and returns it with the defaults filled in. */
export function validateShape(shape: MoELayerShape): Required<MoELayerShape> {
  const where = 'validateShape';
  requireInteger(where, 'tokensPerGpu', shape.tokensPerGpu);
  requireInteger(where, 'modelDim', shape.modelDim);
  requireInteger(where, 'hiddenDim', shape.hiddenDim);
  requireInteger(where, 'numExperts', shape.numExperts);
  requireInteger(where, 'topK', shape.topK);
  if (shape.topK > shape.numExperts) throw new CostModelArgumentError(where, 'topK', `at most numExperts (${shape.numExperts})`, String(shape.topK));
  requirePositive(where, 'capacityFactor', shape.capacityFactor);
  const bytesPerElement = shape.bytesPerElement ?? 2;
  requirePositive(where, 'bytesPerElement', bytesPerElement);
  return { ...shape, bytesPerElement, training: shape.training ?? true };
}

/** Parameters of one expert: `2·D·H` (two weight matrices; biases ignored). */
export function expertParameters(shape: MoELayerShape): number {
  return 2 * shape.modelDim * shape.hiddenDim;
}

/**
 * Rows of the dispatch buffer one GPU sends: `f · K · T_gpu` — all E experts' capacity-padded rows
 * for its own tokens, `E · ceil-free(f·K·T/E)` (GShard Alg. 1, Tutel `fast_encode`). Fractional rows
 * are kept: the model predicts averages.
 */
export function dispatchedRows(shape: MoELayerShape): number {
  return shape.capacityFactor * shape.topK * shape.tokensPerGpu;
}

/** Bytes of that dispatch buffer: `f · K · T_gpu · D · bytes` — what one all-to-all moves per GPU (sent, and received). */
export function dispatchBytes(shape: MoELayerShape): number {
  return dispatchedRows(shape) * shape.modelDim * (shape.bytesPerElement ?? 2);
}

/**
 * FLOPs one GPU spends per step on the layer: the gate `2·T·D·E` plus the experts `2 · rows · 2·D·H`
 * (a matmul of `m×n` by `n×p` is `2mnp`); a training step is three times the forward (backward = 2×).
 * Every layout computes the same number of rows per GPU, so this is layout-independent.
 */
export function layerFlopsPerGpu(shape: MoELayerShape): number {
  const gate = 2 * shape.tokensPerGpu * shape.modelDim * shape.numExperts;
  const experts = 2 * dispatchedRows(shape) * expertParameters(shape);
  return (gate + experts) * ((shape.training ?? true) ? 3 : 1);
}
