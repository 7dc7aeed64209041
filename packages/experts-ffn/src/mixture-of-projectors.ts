import * as tf from '@tensorflow/tfjs-core';
import { MixtureOfExperts, MoEArgumentError, MoEDisposedError, type AuxLosses, type CapacityConfig, type ExpertBank, type Router, type RoutingMetrics } from '@moekit/core';

/**
 * Which parts of a {@link MixtureOfProjectors} the modalities share (Cappellazzo et al. 2025, §2):
 * `'JEJR'` — joint experts, joint router: the modalities' tokens are concatenated and one router sends
 * them to one bank; `'JEDR'` — joint experts, disjoint routers: a router per modality over one shared
 * bank; `'DEDR'` — disjoint experts, disjoint routers: a router and a bank per modality.
 */
export type ProjectorVariant = 'JEJR' | 'JEDR' | 'DEDR';

/** Configuration of a {@link MixtureOfProjectors}. */
export interface MixtureOfProjectorsArgs {
  /** Which parts the modalities share. */
  variant: ProjectorVariant;
  /** Modalities `M` (≥ 1), e.g. 2 for audio and video; `apply` takes one input per modality, in this order. */
  numModalities: number;
  /**
   * Makes a router; called once for `'JEJR'` (with 0), once per modality `m` otherwise. Every router must
   * route to the bank(s)' `E` experts.
   */
  router: (modality: number) => Router;
  /**
   * Makes an expert bank (the projectors: encoder width → the language model's); called once for the
   * joint-expert variants (with 0), once per modality for `'DEDR'`. Joint experts need every modality to
   * have the same width.
   */
  experts: (modality: number) => ExpertBank;
  /** Token-choice capacity of every MoE inside (see `MixtureOfExperts`). Default the MoE's. */
  capacity?: CapacityConfig;
}

/** What {@link MixtureOfProjectors.apply} returns. */
export interface MixtureOfProjectorsOutput {
  /** One `[T_m, D']` projection per modality, in input order. */
  outputs: tf.Tensor[];
  /** The routers' aux losses, summed part by part over the routers (`total` weighted). */
  auxLosses: AuxLosses;
  /** Each inner MoE's metrics: one for `'JEJR'` (all modalities' tokens), one per modality otherwise. */
  metrics: RoutingMetrics[];
}

const VARIANTS: readonly ProjectorVariant[] = ['JEJR', 'JEDR', 'DEDR'];
const KNOWN = ['variant', 'numModalities', 'router', 'experts', 'capacity'];

/**
 * A sparse mixture of projectors (SMoP; Cappellazzo, Kim, Petridis, Falavigna, Brutti 2025, *Scaling and
 * Enhancing LLM-based AVSR: A Sparse Mixture of Projectors Approach*, https://arxiv.org/abs/2505.14336):
 * the projector between each modality encoder and a language model is a sparse top-k MoE of projector
 * experts, so the language model sees `[T_m, D']` tokens per modality at the cost of `k` projectors per
 * token. The paper's three configurations are the `variant` option ({@link ProjectorVariant}); DEDR
 * (a router and a bank per modality) is the one it finds best on ASR, VSR and AVSR.
 *
 * Each part is core's `MixtureOfExperts` (`y = Σ_k G(x)_k · E_{i_k}(x)`, Shazeer et al. 2017 Eq. 1), so
 * the routers are any moekit `Router` (the paper: a linear gate, softmax top-k and Switch's
 * load-balancing loss — e.g. `GatedRouter({ gate: LinearGate, algorithm: TopKChoice })`) and the
 * projectors any `ExpertBank` (`FeedForwardExperts` with `outputDim` the language model's width). With
 * `'JEJR'` the modalities' tokens are routed as one batch (concatenated, then split back); with
 * `'JEDR'` each modality's MoE holds the same bank, which is released once.
 *
 * @example
 * ```ts
 * import { GatedRouter, LinearGate } from '@moekit/core';
 * import { TopKChoice } from '@moekit/router-topk';
 * import { FeedForwardExperts, MixtureOfProjectors } from '@moekit/experts-ffn';
 *
 * // DEDR: audio and video each get their own router and 4 projectors 32 → 64
 * const smop = new MixtureOfProjectors({
 *   variant: 'DEDR', numModalities: 2,
 *   router: (m) => new GatedRouter({ gate: new LinearGate({ numOutputs: 4, seed: m }), algorithm: new TopKChoice({ numExperts: 4, k: 2 }) }),
 *   experts: (m) => new FeedForwardExperts({ numExperts: 4, inputDim: 32, hiddenDim: 64, outputDim: 64, seed: m }),
 * });
 * const { outputs: [audioTokens, videoTokens], auxLosses } = smop.apply([audio, video], { training: true });
 * ```
 */
export class MixtureOfProjectors {
  /** The validated variant. */
  readonly variant: ProjectorVariant;
  /** Modalities `M`. */
  readonly numModalities: number;
  /** The inner MoEs: one for `'JEJR'`, one per modality otherwise. */
  readonly moes: readonly MixtureOfExperts[];
  private disposed = false;

  /** Validates the arguments (unknown options are rejected by name) and builds the routers and banks the variant needs. */
  constructor(args: MixtureOfProjectorsArgs) {
    const where = 'MixtureOfProjectors';
    for (const key of Object.keys(args ?? {})) {
      if (!KNOWN.includes(key)) throw new MoEArgumentError(where, key, `one of the known options (${KNOWN.join(', ')})`, `'${key}'`);
    }
    if (!VARIANTS.includes(args.variant)) throw new MoEArgumentError(where, 'variant', VARIANTS.map((v) => `'${v}'`).join(' | '), String(args.variant));
    if (!Number.isInteger(args.numModalities) || args.numModalities < 1) throw new MoEArgumentError(where, 'numModalities', 'an integer ≥ 1', String(args.numModalities));
    for (const name of ['router', 'experts'] as const) {
      if (typeof args[name] !== 'function') throw new MoEArgumentError(where, name, 'a function (modality) => component', typeof args[name]);
    }
    this.variant = args.variant;
    this.numModalities = args.numModalities;
    const capacity = args.capacity !== undefined ? { capacity: args.capacity } : {};
    const moe = (m: number, experts: ExpertBank) => new MixtureOfExperts({ router: args.router(m), experts, name: `${where}[${m}]`, ...capacity });
    if (this.variant === 'JEJR') {
      this.moes = [moe(0, args.experts(0))];
    } else if (this.variant === 'JEDR') {
      const bank = args.experts(0); // one bank, every modality's router in front of it
      this.moes = Array.from({ length: this.numModalities }, (_, m) => moe(m, bank));
    } else {
      this.moes = Array.from({ length: this.numModalities }, (_, m) => moe(m, args.experts(m)));
    }
  }

  /** The trainable variables of every router and bank, each once (a shared bank is listed once). */
  get trainableVariables(): tf.Variable[] {
    return [...new Set(this.moes.flatMap((moe) => moe.trainableVariables))];
  }

  /**
   * Projects each modality's tokens `inputs[m]` `[T_m, D_m]` to `[T_m, D']`. The caller owns the outputs
   * and every aux loss; a call after {@link dispose} is a `MoEDisposedError`.
   */
  apply(inputs: tf.Tensor[], options: { training: boolean }): MixtureOfProjectorsOutput {
    const where = 'MixtureOfProjectors.apply';
    if (this.disposed) throw new MoEDisposedError(where, 'MixtureOfProjectors');
    if (!Array.isArray(inputs) || inputs.length !== this.numModalities) {
      throw new MoEArgumentError(where, 'inputs', `${this.numModalities} tensors (one per modality)`, Array.isArray(inputs) ? `${inputs.length} tensors` : typeof inputs);
    }
    inputs.forEach((x, m) => {
      if (!(x instanceof tf.Tensor) || x.rank !== 2) throw new MoEArgumentError(where, `inputs[${m}]`, 'a rank-2 tensor [T_m, D_m]', x instanceof tf.Tensor ? `shape [${x.shape.join(', ')}]` : typeof x);
    });
    if (this.variant !== 'DEDR') {
      const width = inputs[0]!.shape[1];
      inputs.forEach((x, m) => {
        if (x.shape[1] !== width) throw new MoEArgumentError(where, `inputs[${m}]`, `width ${width} (joint experts take every modality at one width)`, `shape [${x.shape.join(', ')}]`);
      });
    }
    if (this.variant === 'JEJR') {
      // one router, one bank: all modalities' tokens routed together (one batch), then split back
      const joint = tf.concat(inputs, 0); // [Σ T_m, D]
      const out = this.moes[0]!.apply(joint, { training: options.training });
      joint.dispose();
      const outputs = tf.split(out.output, inputs.map((x) => x.shape[0]), 0); // M × [T_m, D']
      out.output.dispose();
      return { outputs, auxLosses: out.auxLosses, metrics: [out.metrics] };
    }
    const results = inputs.map((x, m) => this.moes[m]!.apply(x, { training: options.training }));
    return { outputs: results.map((r) => r.output), auxLosses: sumAuxLosses(results.map((r) => r.auxLosses)), metrics: results.map((r) => r.metrics) };
  }

  /** Releases every router and bank (a shared bank once); idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // with joint experts the bank is shared: every MoE but the last keeps it
    this.moes.forEach((moe, m) => moe.dispose({ keepExperts: this.variant === 'JEDR' && m < this.moes.length - 1 }));
  }
}

/** The parts of several routers' aux losses summed by name (`total` the sum of the totals); disposes the inputs. */
function sumAuxLosses(parts: AuxLosses[]): AuxLosses {
  const names = [...new Set(parts.flatMap((p) => Object.keys(p)))];
  const summed = Object.fromEntries(names.map((name) => [name, tf.tidy(() => tf.addN(parts.filter((p) => p[name] !== undefined).map((p) => p[name]!)))])) as AuxLosses;
  tf.dispose(parts.flatMap((p) => Object.values(p)));
  return summed;
}
