/**
 * A one-block V-MoE (Riquelme et al. 2021, arXiv:2106.05974) for 28 × 28 images: each image is cut into
 * 16 patches of 7 × 7 pixels, each patch embedded linearly plus a learned position embedding, then one
 * ViT encoder block whose MLP is an MoE applied per patch token with the block's residual around it
 * (V-MoE §2: every other MLP replaced by an MoE; a dropped patch is carried by the residual), then a
 * final LayerNorm and a linear head over the concatenated tokens.
 *
 * Axes: N images, P = 16 patches per image, T = N·P tokens, D model width, E experts.
 */
import * as tf from '@tensorflow/tfjs';
import type { MixtureOfExperts } from '@moekit/core';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { TopKRouter } from '@moekit/router-topk';

/** Patches per image side (28 / 7). */
const GRID = 4;
/** Pixels per patch side. */
const PATCH = 7;
/** Patches per image P. */
export const PATCHES = GRID * GRID;

/** Configuration of a {@link PatchVMoE}. */
export interface PatchVMoEArgs {
  /** Model width D. */
  dim: number;
  /** Experts E. */
  experts: number;
  /** Hidden width of each expert's MLP. */
  hiddenDim: number;
  /** Seed of every initialiser and of the router's noise. */
  seed: number;
}

/** `[N, 784]` images → `[N, P, 49]` patches, row-major over the 4 × 4 grid. */
export function patchify(images: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const n = images.shape[0];
    const grid = tf.reshape(images, [n, GRID, PATCH, GRID, PATCH]); // [N, gy, py, gx, px]
    return tf.reshape(tf.transpose(grid, [0, 1, 3, 2, 4]), [n, PATCHES, PATCH * PATCH]) as tf.Tensor3D; // [N, P, 49]
  });
}

/**
 * The model. Its router (V-MoE's: top-2 of a softmax over a linear gate, Gaussian noise of std 1/E
 * while training, importance and load losses) and experts are plain components, so a capacity sweep
 * can wrap them in MoEs of any capacity, with or without Batch Priority Routing.
 */
export class PatchVMoE {
  /** V-MoE's router: top-2, Gaussian noise, softmax gates. */
  readonly router: TopKRouter;
  /** The experts: one ReLU MLP D → hiddenDim → D each. */
  readonly experts: FeedForwardExperts;
  private readonly dim: number;
  private readonly weights: ReturnType<typeof buildWeights>;

  /** Builds the weights (see {@link buildWeights}), the router and the experts. */
  constructor(args: PatchVMoEArgs) {
    this.dim = args.dim;
    this.weights = buildWeights(args.dim, args.seed);
    this.router = new TopKRouter({ numExperts: args.experts, k: 2, inputDim: args.dim, noise: 'gaussian', seed: args.seed + 7 });
    this.experts = new FeedForwardExperts({ numExperts: args.experts, inputDim: args.dim, hiddenDim: args.hiddenDim, seed: args.seed + 8 });
  }

  /** Every trainable variable: the block's and head's, the router's and the experts'. */
  get trainableVariables(): tf.Variable[] {
    return [...Object.values(this.weights), ...this.router.trainableVariables, ...this.experts.trainableVariables];
  }

  /** Class scores `[N, 10]` of `images` `[N, 784]` with `moe` (built over this router and experts) as the block's MLP, and its aux losses; call inside `tidy`. */
  predict(images: tf.Tensor2D, moe: MixtureOfExperts, training: boolean): { logits: tf.Tensor2D; aux: tf.Scalar } {
    const w = this.weights;
    const n = images.shape[0];
    const d = this.dim;
    // ViT: z_0 = [x_p^1 E; …; x_p^P E] + E_pos (Dosovitskiy et al. 2021, Eq. 1; no class token: the head reads every token)
    const patches = tf.reshape(patchify(images), [n * PATCHES, PATCH * PATCH]); // [T, 49]
    const z0 = tf.add(tf.reshape(tf.add(tf.matMul(patches, w.embed), w.embedBias), [n, PATCHES, d]), w.position); // [N, P, D]
    // z' = MSA(LN(z_0)) + z_0 (Eq. 2), one head: softmax(q kᵀ / √D) v
    const a = layerNorm(z0, w.ln1Gamma, w.ln1Beta); // [N, P, D]
    const project = (m: tf.Variable) => tf.reshape(tf.matMul(tf.reshape(a, [n * PATCHES, d]), m), [n, PATCHES, d]); // [N, P, D]
    const scores = tf.softmax(tf.div(tf.matMul(project(w.query), project(w.key), false, true), Math.sqrt(d))); // [N, P, P]
    const attended = tf.reshape(tf.matMul(tf.reshape(tf.matMul(scores, project(w.value)), [n * PATCHES, d]), w.out), [n, PATCHES, d]); // [N, P, D]
    const z1 = tf.add(z0, attended); // [N, P, D]
    // z_ℓ = MoE(LN(z')) + z' (Eq. 3 with the MLP replaced by the MoE, V-MoE §2.1), per patch token
    const tokens = tf.reshape(layerNorm(z1, w.ln2Gamma, w.ln2Beta), [n * PATCHES, d]) as tf.Tensor2D; // [T, D]
    const out = moe.apply(tokens, { training });
    const z2 = tf.add(z1, tf.reshape(out.output, [n, PATCHES, d])); // [N, P, D]; a dropped patch's MoE row is 0, the residual carries it
    // y = head([LN(z_L)^1; …; LN(z_L)^P]): a linear head over the P normalised tokens, concatenated
    const pooled = tf.reshape(layerNorm(z2, w.lnFGamma, w.lnFBeta), [n, PATCHES * d]) as tf.Tensor2D; // [N, P·D]
    return { logits: tf.add(tf.matMul(pooled, w.head), w.headBias) as tf.Tensor2D, aux: out.auxLosses.total };
  }

  /** Releases every weight, the router's and the experts' included. */
  dispose(): void {
    tf.dispose(Object.values(this.weights));
    this.router.dispose();
    this.experts.dispose();
  }
}

/** The block's and head's weights: Glorot-uniform matrices, a position embedding N(0, 0.02²) as ViT's, LayerNorms γ = 1, β = 0. */
function buildWeights(dim: number, seed: number) {
  const glorot = (fanIn: number, fanOut: number, s: number) => tf.variable(tf.randomUniform([fanIn, fanOut], -Math.sqrt(6 / (fanIn + fanOut)), Math.sqrt(6 / (fanIn + fanOut)), 'float32', s));
  return tf.tidy(() => ({
    embed: glorot(PATCH * PATCH, dim, seed), // [49, D]
    embedBias: tf.variable(tf.zeros([dim])), // [D]
    position: tf.variable(tf.randomNormal([PATCHES, dim], 0, 0.02, 'float32', seed + 1)), // [P, D]
    ln1Gamma: tf.variable(tf.ones([dim])), ln1Beta: tf.variable(tf.zeros([dim])), // [D]
    query: glorot(dim, dim, seed + 2), key: glorot(dim, dim, seed + 3), value: glorot(dim, dim, seed + 4), out: glorot(dim, dim, seed + 5), // [D, D]
    ln2Gamma: tf.variable(tf.ones([dim])), ln2Beta: tf.variable(tf.zeros([dim])), // [D]
    lnFGamma: tf.variable(tf.ones([dim])), lnFBeta: tf.variable(tf.zeros([dim])), // [D]
    head: glorot(PATCHES * dim, 10, seed + 6), // [P·D, 10]
    headBias: tf.variable(tf.zeros([10])), // [10]
  }));
}

/** LayerNorm over the last axis (Ba et al. 2016): `γ · (x − μ) / √(σ² + 1e-6) + β`. */
function layerNorm(x: tf.Tensor, gamma: tf.Variable, beta: tf.Variable): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true); // [..., 1]
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-6))), gamma), beta);
}
