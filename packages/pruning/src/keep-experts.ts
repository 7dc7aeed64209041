import { checkExpertSelection, componentConfig, definedConfig, fromComponentConfig, MixtureOfExperts, MoEArgumentError, requireCapability, type ExpertBank, type MixtureOfExpertsArgs, type Router, type SharedBranch } from '@moekit/core';
import { MoELayer } from '@moekit/layers';

/**
 * An independent copy of the shared branch (rebuilt from its config through the component registry,
 * its variables copied in order), so that disposing or training the pruned MoE never touches the
 * original's branch.
 */
function copySharedBranch(where: string, shared: SharedBranch): SharedBranch {
  const copy = fromComponentConfig<SharedBranch>(componentConfig(shared, where, 'shared'), where, 'shared');
  const from = shared.trainableVariables;
  const to = copy.trainableVariables;
  if (from.length !== to.length || from.some((v, i) => v.shape.join() !== to[i]!.shape.join())) {
    copy.dispose();
    throw new MoEArgumentError(where, 'shared', 'a branch whose fromConfig rebuilds the same variables', `${to.length} variables for ${from.length}`);
  }
  to.forEach((v, i) => v.assign(from[i]!));
  return copy;
}

/** The pruned MoE's components; disposes what was made if a later step throws. */
function prunedComponents(where: string, moe: MixtureOfExperts, keep: readonly number[]): Pick<MixtureOfExpertsArgs, 'router' | 'experts' | 'shared'> {
  checkExpertSelection(where, keep, moe.numExperts);
  const router = requireCapability(moe.router, 'selectExperts', where, 'router').selectExperts(keep) as Router;
  let experts: ExpertBank | undefined;
  try {
    experts = requireCapability(moe.experts, 'selectExperts', where, 'experts').selectExperts(keep) as ExpertBank;
    const shared = moe.shared === undefined ? undefined : copySharedBranch(where, moe.shared);
    return { router, experts, ...(shared ? { shared } : {}) };
  } catch (error) {
    router.dispose();
    experts?.dispose();
    throw error;
  }
}

/**
 * A new, smaller copy of `model` holding only the experts `keep` (distinct indices in `[0, E)`; expert
 * `keep[i]` becomes expert `i`): the router's kept gate columns and the bank's kept experts copied
 * exactly (`selectExperts` of each: both need the `'selectExperts'` capability), the shared branch
 * copied, the combiner and every option (capacity factors, preset, renormalisation, layout, and a
 * layer's `routeOver`) kept. Capacity is computed per
 * call from `E' = keep.length`, so it is recomputed for the smaller MoE. The original is untouched;
 * the caller owns (and disposes) the copy. A pruned {@link MoELayer} is named `<name>_pruned`; build
 * a model around it (its other layers may be the original model's).
 *
 * For a token whose chosen experts all survive and that no capacity drop touches, the pruned MoE's
 * output equals the original's bit for bit when the router's combine gates depend on the chosen
 * experts' logits only (TopKRouter's `Softmax(KeepTopK(·))`, or `renormalize` with `k = 1`); with a
 * full softmax (`SwitchRouter`, `'softmax'` gates) the pruned experts' mass leaves the denominator and
 * the kept gates grow by that factor, while the experts' own outputs stay bit-exact.
 *
 * @example
 * ```ts
 * import { keepExperts } from '@moekit/pruning';
 *
 * const small = keepExperts(moe, [0, 2, 5]); // E' = 3
 * ```
 */
export function keepExperts(model: MixtureOfExperts, keep: readonly number[]): MixtureOfExperts;
/** The same for a tfjs-layers {@link MoELayer}: a new layer with the kept experts, not yet part of any model. */
export function keepExperts(model: MoELayer, keep: readonly number[]): MoELayer;
export function keepExperts(model: MixtureOfExperts | MoELayer, keep: readonly number[]): MixtureOfExperts | MoELayer;
export function keepExperts(model: MixtureOfExperts | MoELayer, keep: readonly number[]): MixtureOfExperts | MoELayer {
  const where = 'keepExperts';
  if (model instanceof MoELayer) {
    const components = prunedComponents(where, model.moe, keep);
    const { router: _router, experts: _experts, shared: _shared, name, ...rest } = model.getConfig();
    return new MoELayer({ ...(rest as object), ...components, name: `${String(name)}_pruned` });
  }
  if (!(model instanceof MixtureOfExperts)) {
    throw new MoEArgumentError(where, 'model', 'a MixtureOfExperts or a MoELayer', String(model));
  }
  const components = prunedComponents(where, model, keep);
  return new MixtureOfExperts({ ...(definedConfig(model.config) as Partial<MixtureOfExpertsArgs>), ...components, combiner: model.combiner });
}
