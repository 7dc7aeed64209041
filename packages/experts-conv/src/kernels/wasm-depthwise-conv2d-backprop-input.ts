import {
  DepthwiseConv2dNativeBackpropInput, backend_util,
  type DepthwiseConv2dNativeBackpropInputAttrs, type KernelConfig, type KernelFunc,
} from '@tensorflow/tfjs-core';
import { checkDtype } from '@moekit/core';
import type { WasmBackendLike } from '@moekit/platform';

/**
 * `DepthwiseConv2dNativeBackpropInput` (the input gradient of `depthwiseConv2d`) for the wasm
 * backend, which has none (TFJS-NOTES.md). Same semantics as tfjs-backend-cpu's kernel (NHWC, strides,
 * `'same'` / `'valid'` / numeric / explicit padding, `dimRoundingMode`, channel multiplier ≥ 1) for
 * dilation 1, the only dilation tfjs differentiates. Dilations > 1 get the true gradient of the
 * dilated convolution (taps `dilation` apart); the cpu kernel computes a different, undilated sum there.
 * Each input pixel gathers the few `(dy pixel, filter tap)` pairs that reach it, then runs over the
 * output channels four at a time in registers, adding each into its input channel.
 * @internal
 */
export const wasmDepthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackendLike;
    const dy = inputs['dy']!;
    const filter = inputs['filter']!;
    const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
    const where = 'DepthwiseConv2dNativeBackpropInput (wasm)';
    checkDtype(where, 'dy', dy, 'float32');
    checkDtype(where, 'filter', filter, 'float32');
    const info = backend_util.computeConv2DInfo(
      inputShape, filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, true);

    const dx = wasm.makeOutput(info.inShape, 'float32'); // first: it may grow the heap
    depthwiseInputGradient(
      wasm.typedArrayFromHeap(dy) as Float32Array, wasm.typedArrayFromHeap(filter) as Float32Array,
      wasm.typedArrayFromHeap(dx) as Float32Array, info);
    return dx;
  }) as KernelFunc,
};

/**
 * The taps of one filter axis that reach each input coordinate: for input index `xi`, the pairs
 * `(filter index w, output index yi)` with `yi·stride + w·dilation − pad = xi`, `0 ≤ yi < outSize`.
 */
interface AxisTaps {
  /** `[inSize]`: how many taps reach each input index. */
  count: Int32Array;
  /** `[inSize, filterSize]`: filter index of each tap. */
  filterIndex: Int32Array;
  /** `[inSize, filterSize]`: output index of each tap. */
  outIndex: Int32Array;
}

/** The {@link AxisTaps} of one axis (rows or columns) of a conv with the given geometry. */
function axisTaps(inSize: number, outSize: number, filterSize: number, stride: number, dilation: number, pad: number): AxisTaps {
  const taps: AxisTaps = {
    count: new Int32Array(inSize),
    filterIndex: new Int32Array(inSize * filterSize),
    outIndex: new Int32Array(inSize * filterSize),
  };
  for (let xi = 0; xi < inSize; xi++) {
    let t = 0;
    for (let w = 0; w < filterSize; w++) {
      const scaled = xi + pad - w * dilation; // = yi·stride
      if (scaled < 0 || scaled % stride !== 0) continue;
      const yi = scaled / stride;
      if (yi >= outSize) continue;
      taps.filterIndex[xi * filterSize + t] = w;
      taps.outIndex[xi * filterSize + t] = yi;
      t++;
    }
    taps.count[xi] = t;
  }
  return taps;
}

/**
 * dx[b, xR, xC, i] = Σ_{(r, yR), (c, yC) reaching (xR, xC)} Σ_m dy[b, yR, yC, i·M + m] · filter[r, c, i, m]
 * with M the channel multiplier.
 */
function depthwiseInputGradient(dy: Float32Array, filter: Float32Array, dx: Float32Array, info: backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const chMul = outChannels / inChannels;
  const rows = axisTaps(inHeight, outHeight, filterHeight, strideHeight, dilationHeight, info.padInfo.top);
  const cols = axisTaps(inWidth, outWidth, filterWidth, strideWidth, dilationWidth, info.padInfo.left);
  const dyOffsets = new Int32Array(filterHeight * filterWidth); // [taps], start of dy[b, yR, yC, :]
  const filterOffsets = new Int32Array(filterHeight * filterWidth); // [taps], start of filter[r, c, :, :]
  const main = outChannels - (outChannels % 4);
  const inputChannel = new Int32Array(outChannels); // [outC], ⌊d / M⌋: the input channel of output channel d
  for (let d = 0; d < outChannels; d++) inputChannel[d] = Math.floor(d / chMul);
  const sums = new Float64Array(inChannels); // [inC], one pixel's dx while its M output channels add in

  for (let b = 0; b < batchSize; b++) {
    for (let xR = 0; xR < inHeight; xR++) {
      const rowCount = rows.count[xR]!;
      for (let xC = 0; xC < inWidth; xC++) {
        const colCount = cols.count[xC]!;
        let taps = 0;
        for (let s = 0; s < rowCount; s++) {
          const r = rows.filterIndex[xR * filterHeight + s]!;
          const yR = rows.outIndex[xR * filterHeight + s]!;
          for (let t = 0; t < colCount; t++) {
            const c = cols.filterIndex[xC * filterWidth + t]!;
            const yC = cols.outIndex[xC * filterWidth + t]!;
            dyOffsets[taps] = ((b * outHeight + yR) * outWidth + yC) * outChannels;
            filterOffsets[taps] = (r * filterWidth + c) * outChannels;
            taps++;
          }
        }
        const out = ((b * inHeight + xR) * inWidth + xC) * inChannels;
        if (chMul !== 1) sums.fill(0);

        for (let d = 0; d < main; d += 4) {
          let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
          for (let t = 0; t < taps; t++) {
            const q = dyOffsets[t]! + d;
            const f = filterOffsets[t]! + d;
            a0 += dy[q]! * filter[f]!; a1 += dy[q + 1]! * filter[f + 1]!;
            a2 += dy[q + 2]! * filter[f + 2]!; a3 += dy[q + 3]! * filter[f + 3]!;
          }
          if (chMul === 1) {
            dx[out + d] = a0; dx[out + d + 1] = a1; dx[out + d + 2] = a2; dx[out + d + 3] = a3;
          } else {
            sums[inputChannel[d]!]! += a0; sums[inputChannel[d + 1]!]! += a1;
            sums[inputChannel[d + 2]!]! += a2; sums[inputChannel[d + 3]!]! += a3;
          }
        }
        for (let d = main; d < outChannels; d++) {
          let a = 0;
          for (let t = 0; t < taps; t++) a += dy[dyOffsets[t]! + d]! * filter[filterOffsets[t]! + d]!;
          if (chMul === 1) dx[out + d] = a;
          else sums[inputChannel[d]!]! += a;
        }
        if (chMul !== 1) dx.set(sums, out);
      }
    }
  }
}
