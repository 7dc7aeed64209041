import { MoEArgumentError } from '@moekit/core';

/**
 * Throws unless `excluded` (Pavlitska et al. 2022's hard constraint, `RouteOptions.excludedExperts`)
 * leaves at least `k` of the `E` experts: top-k over fewer would pick an excluded expert, whose logit is
 * only "−∞", and give it a slot and a load although it was excluded. (`excludeExperts` checks the length.)
 */
export function checkExcludedLeaveK(where: string, excluded: readonly boolean[] | undefined, numExperts: number, k: number): void {
  if (excluded === undefined || excluded.length !== numExperts) return; // a wrong length is excludeExperts' error
  const count = excluded.filter((x) => x).length;
  if (count > numExperts - k) {
    throw new MoEArgumentError(where, 'excludedExperts', `at most ${numExperts - k} excluded experts (E − k = ${numExperts} − ${k}, so that k remain to choose)`, `${count} of ${excluded.length}`);
  }
}
