import type { backend_util } from '@tensorflow/tfjs-core';

/**
 * `out[ids[r], :] += x[r, :]` over rows of width `inner` — the loop behind both moekit
 * `UnsortedSegmentSum` kernels, O(rows · inner). Ids outside `[0, numSegments)` are skipped, as
 * TensorFlow drops negative ids. `out` must be zero-filled.
 * @internal
 */
export function segmentSumRows(
  out: Float32Array | Int32Array,
  x: backend_util.TypedArray,
  ids: backend_util.TypedArray,
  numSegments: number,
  inner: number,
): void {
  const rows = ids.length;
  for (let r = 0; r < rows; r++) {
    const segment = ids[r]!;
    if (segment < 0 || segment >= numSegments) continue;
    const src = r * inner;
    const dst = segment * inner;
    for (let j = 0; j < inner; j++) out[dst + j]! += x[src + j]!;
  }
}
