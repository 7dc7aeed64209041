/**
 * V-MoE's fine-tuning optimiser, which Chowdhury et al. 2024's code fine-tunes with before and after
 * pruning: SGD with momentum 0.9 over gradients clipped to global norm 10, its learning rate warmed up
 * linearly from 0 and then decayed along a cosine (optax `warmup_cosine_decay_schedule(init_value=0)`).
 * Followed from nowazrabbani/MoE_Pruning `finetune_utils/finetune_config.py` (`config.optimizer`:
 * `sgd`, `momentum 0.9`, `warmup_cosine_decay`, `gradient_clip.global_norm 10.0`, the peak, end and
 * warmup steps passed in) and google-research/vmoe `vmoe/configs/vmoe_paper/
 * vmoe_b16_imagenet21k_randaug_strong_ft_cifar10.py` (the same optimiser: peak 0.0015, end 1e-5,
 * 100 warmup steps of 1000), with the schedule of `vmoe/train/schedule.py`.
 */
import * as tf from '@tensorflow/tfjs';

/** The learning-rate schedule of {@link WarmupCosineSgd}. */
export interface WarmupCosineSchedule {
  /** Learning rate at the end of the warmup. */
  peak: number;
  /** Learning rate at the last step. */
  end: number;
  /** Steps of linear warmup from 0 to `peak`. */
  warmupSteps: number;
  /** All steps, warmup included (optax's `decay_steps`). */
  totalSteps: number;
}

/**
 * The learning rate at 0-based `step`: `peak · step / warmupSteps` during the warmup, then
 * `end + (peak − end) · ½(1 + cos(π · min(step − warmupSteps, T) / T))` with `T = totalSteps − warmupSteps`
 * (optax `warmup_cosine_decay_schedule` with `init_value = 0`, as vmoe's `create_learning_rate_schedule`).
 */
export function warmupCosineLearningRate(step: number, s: WarmupCosineSchedule): number {
  if (!(s.totalSteps > s.warmupSteps && s.warmupSteps >= 0 && s.peak >= s.end && s.end >= 0)) {
    throw new Error(`warmupCosineLearningRate: need totalSteps > warmupSteps ≥ 0 and peak ≥ end ≥ 0, got ${JSON.stringify(s)}`);
  }
  if (step < s.warmupSteps) return (s.peak * step) / s.warmupSteps;
  const decaySteps = s.totalSteps - s.warmupSteps;
  const t = Math.min(step - s.warmupSteps, decaySteps);
  return s.end + (s.peak - s.end) * 0.5 * (1 + Math.cos((Math.PI * t) / decaySteps));
}

/**
 * Gradients scaled by `min(1, maxNorm / ‖g‖)` with `‖g‖` the l2 norm over all of them (optax
 * `clip_by_global_norm`); returns new tensors (the caller disposes them) and the norm before clipping.
 */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): { grads: tf.NamedTensorMap; norm: number } {
  const names = Object.keys(grads);
  const squared = tf.tidy(() => tf.addN(names.map((n) => tf.sum(tf.square(grads[n]!))))); // [] Σ g²
  const norm = Math.sqrt(squared.dataSync()[0]!);
  squared.dispose();
  const scale = norm > maxNorm ? maxNorm / norm : 1;
  const clipped: tf.NamedTensorMap = {};
  for (const n of names) clipped[n] = tf.mul(grads[n]!, scale);
  return { grads: clipped, norm };
}

/** Configuration of {@link WarmupCosineSgd}. */
export interface WarmupCosineSgdArgs {
  /** The learning-rate schedule. */
  schedule: WarmupCosineSchedule;
  /** Momentum of the velocity `v ← momentum·v + g` (optax `sgd(momentum)`, tfjs `momentum`). Default 0.9. */
  momentum?: number;
  /** Global-norm clipping threshold. Default 10. */
  clipNorm?: number;
}

/**
 * SGD with momentum, a warmup-cosine learning rate and global-norm clipping: one {@link step} per batch.
 *
 * @example
 * ```ts
 * const sgd = new WarmupCosineSgd({ schedule: { peak: 0.05, end: 1e-5, warmupSteps: 20, totalSteps: 200 } });
 * for (…) sgd.step(() => loss(), variables);
 * sgd.dispose();
 * ```
 */
export class WarmupCosineSgd {
  /** Steps taken so far. */
  count = 0;
  private readonly velocities = new Map<string, tf.Variable>();
  private readonly schedule: WarmupCosineSchedule;
  private readonly momentum: number;
  private readonly clipNorm: number;

  constructor(args: WarmupCosineSgdArgs) {
    this.schedule = args.schedule;
    this.momentum = args.momentum ?? 0.9;
    this.clipNorm = args.clipNorm ?? 10;
    warmupCosineLearningRate(0, this.schedule); // validates the schedule
  }

  /** One update of `variables` down the gradient of `loss`; returns the loss and the gradient norm before clipping. */
  step(loss: () => tf.Scalar, variables: tf.Variable[]): { loss: number; gradNorm: number } {
    const lr = warmupCosineLearningRate(this.count, this.schedule);
    this.count++;
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(loss, variables);
      const clipped = clipByGlobalNorm(grads, this.clipNorm);
      for (const v of variables) {
        const g = clipped.grads[v.name];
        if (g === undefined) continue; // no path from this variable to the loss
        let velocity = this.velocities.get(v.name);
        if (velocity === undefined) {
          velocity = tf.variable(tf.zerosLike(v), false);
          this.velocities.set(v.name, velocity);
        }
        velocity.assign(tf.add(tf.mul(velocity, this.momentum), g)); // v ← μ·v + g (optax trace, tfjs momentum)
        v.assign(tf.sub(v, tf.mul(velocity, lr))); // w ← w − lr·v
      }
      return { loss: value.dataSync()[0]!, gradNorm: clipped.norm };
    });
  }

  /** Releases the velocities. */
  dispose(): void {
    tf.dispose([...this.velocities.values()]);
    this.velocities.clear();
  }
}
