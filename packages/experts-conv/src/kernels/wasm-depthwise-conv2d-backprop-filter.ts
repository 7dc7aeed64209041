import {
  DepthwiseConv2dNativeBackpropFilter, backend_util,
  type DepthwiseConv2dNativeBackpropFilterAttrs, type KernelConfig, type KernelFunc,
} from '@tensorflow/tfjs-core';
import { checkDtype } from '@moekit/core';
import type { WasmBackendLike } from '@moekit/platform';

/** Output positions per block: a block's rows of x and dy stay in L1 while the channel tiles sweep them. */
const BLOCK = 64;

/**
 * `DepthwiseConv2dNativeBackpropFilter` (the filter gradient of `depthwiseConv2d`) for the wasm
 * backend, which has none (TFJS-NOTES.md). Same semantics as tfjs-backend-cpu's kernel (NHWC, strides,
 * `'same'` / `'valid'` / numeric / explicit padding, `dimRoundingMode`, channel multiplier ≥ 1) for
 * dilation 1, the only dilation tfjs differentiates. Dilations > 1 get the true gradient of the
 * dilated convolution (taps `dilation` apart); the cpu kernel computes a different, undilated sum there.
 * Per filter tap it sums `x · dy` over the output positions the tap reaches, four output channels at
 * a time in registers over blocks of 64 positions.
 * @internal
 */
export const wasmDepthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackendLike;
    const x = inputs['x']!;
    const dy = inputs['dy']!;
    const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
    const where = 'DepthwiseConv2dNativeBackpropFilter (wasm)';
    checkDtype(where, 'x', x, 'float32');
    checkDtype(where, 'dy', dy, 'float32');
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true);

    const dw = wasm.makeOutput(info.filterShape, 'float32'); // first: it may grow the heap
    const grad = depthwiseFilterGradient(
      wasm.typedArrayFromHeap(x) as Float32Array, wasm.typedArrayFromHeap(dy) as Float32Array, info);
    (wasm.typedArrayFromHeap(dw) as Float32Array).set(grad);
    return dw;
  }) as KernelFunc,
};

/**
 * dW[r, c, i, m] = Σ_{b, yR, yC} x[b, yR·sH + r·dilH − top, yC·sW + c·dilW − left, i] · dy[b, yR, yC, i·M + m]
 * with M the channel multiplier, the sum running over the positions where the x index falls inside
 * the input. dW is `[fh, fw, inC, M]`, so its tap `(r, c)` is a row of `outC = inC·M` values.
 */
function depthwiseFilterGradient(x: Float32Array, dy: Float32Array, info: backend_util.Conv2DInfo): Float64Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  const grad = new Float64Array(filterHeight * filterWidth * outChannels); // [fh, fw, inC, M]
  const xOffsets = new Int32Array(batchSize * outHeight * outWidth); // [B·outH·outW], start of x[b, xR, xC, :]
  const dyOffsets = new Int32Array(batchSize * outHeight * outWidth); // [B·outH·outW], start of dy[b, yR, yC, :]

  for (let r = 0; r < filterHeight; r++) {
    const rowShift = r * dilationHeight - top; // xR = yR·sH + rowShift
    const yRMin = Math.max(0, Math.ceil(-rowShift / strideHeight));
    const yRMax = Math.min(outHeight, Math.ceil((inHeight - rowShift) / strideHeight));
    for (let c = 0; c < filterWidth; c++) {
      const colShift = c * dilationWidth - left; // xC = yC·sW + colShift
      const yCMin = Math.max(0, Math.ceil(-colShift / strideWidth));
      const yCMax = Math.min(outWidth, Math.ceil((inWidth - colShift) / strideWidth));
      let n = 0;
      for (let b = 0; b < batchSize; b++) {
        for (let yR = yRMin; yR < yRMax; yR++) {
          const xRow = (b * inHeight + yR * strideHeight + rowShift) * inWidth;
          const dyRow = (b * outHeight + yR) * outWidth;
          for (let yC = yCMin; yC < yCMax; yC++) {
            xOffsets[n] = (xRow + yC * strideWidth + colShift) * inChannels;
            dyOffsets[n] = (dyRow + yC) * outChannels;
            n++;
          }
        }
      }
      accumulateTap(x, dy, xOffsets, dyOffsets, n, outChannels, outChannels / inChannels, grad, (r * filterWidth + c) * outChannels);
    }
  }
  return grad;
}

/**
 * grad[base + d] += Σ_{k < n} x[xOffsets[k] + ⌊d / M⌋] · dy[dyOffsets[k] + d] for each output channel
 * d = i·M + m, four output channels per register tile (their input channels found once per tile).
 */
function accumulateTap(
  x: Float32Array, dy: Float32Array, xOffsets: Int32Array, dyOffsets: Int32Array, n: number,
  outC: number, chMul: number, grad: Float64Array, base: number,
): void {
  const main = outC - (outC % 4);
  for (let k0 = 0; k0 < n; k0 += BLOCK) {
    const k1 = Math.min(n, k0 + BLOCK);
    for (let d = 0; d < main; d += 4) {
      const i0 = Math.floor(d / chMul), i1 = Math.floor((d + 1) / chMul);
      const i2 = Math.floor((d + 2) / chMul), i3 = Math.floor((d + 3) / chMul);
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let k = k0; k < k1; k++) {
        const p = xOffsets[k]!;
        const q = dyOffsets[k]! + d;
        a0 += x[p + i0]! * dy[q]!; a1 += x[p + i1]! * dy[q + 1]!; a2 += x[p + i2]! * dy[q + 2]!; a3 += x[p + i3]! * dy[q + 3]!;
      }
      const g = base + d;
      grad[g]! += a0; grad[g + 1]! += a1; grad[g + 2]! += a2; grad[g + 3]! += a3;
    }
    for (let d = main; d < outC; d++) {
      const i = Math.floor(d / chMul);
      let a = 0;
      for (let k = k0; k < k1; k++) a += x[xOffsets[k]! + i]! * dy[dyOffsets[k]! + d]!;
      grad[base + d]! += a;
    }
  }
}
