import { Conv2DBackpropFilter, backend_util, type Conv2DBackpropFilterAttrs, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '@moekit/core';
import { checkDtype } from '@moekit/core';
import type { WasmBackendLike } from '@moekit/platform';

/** Output positions per block: a block's rows of x and dy stay in L1 while every 4×4 tile sweeps them. */
const BLOCK = 64;

/**
 * `Conv2DBackpropFilter` (the filter gradient of `conv2d`) for the wasm backend, which has none, so
 * conv training fails there (TFJS-NOTES.md). Same semantics as tfjs-backend-cpu's kernel for NHWC:
 * strides, `'same'` / `'valid'` / numeric / explicit padding, `dimRoundingMode`, dilation 1.
 * For each filter tap `(r, c)` it sums the `[inChannels × outChannels]` outer products `xᵀ · dy` over
 * the output positions that tap reaches, in 4×4 register tiles over blocks of 64 positions
 * (≈ 4 GFLOP/s in V8: 39 ms for x `[32, 16, 16, 32]` and a 3×3×32×32 filter, where the cpu kernel's
 * per-element `TensorBuffer.get` takes 11.5 s).
 * @internal
 */
export const wasmConv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackendLike;
    const x = inputs['x']!;
    const dy = inputs['dy']!;
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
    const where = 'Conv2DBackpropFilter (wasm)';
    if (dataFormat !== 'NHWC') throw new MoEArgumentError(where, 'dataFormat', "'NHWC'", `'${dataFormat}'`);
    checkDtype(where, 'x', x, 'float32');
    checkDtype(where, 'dy', dy, 'float32');
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');

    const dw = wasm.makeOutput(info.filterShape, 'float32'); // first: it may grow the heap
    const grad = conv2dFilterGradient(
      wasm.typedArrayFromHeap(x) as Float32Array, wasm.typedArrayFromHeap(dy) as Float32Array, info);
    (wasm.typedArrayFromHeap(dw) as Float32Array).set(grad);
    return dw;
  }) as KernelFunc,
};

/**
 * dW[r, c, i, o] = Σ_{b, yR, yC} x[b, yR·sH + r − top, yC·sW + c − left, i] · dy[b, yR, yC, o],
 * the sum running over the positions where the x index falls inside the input.
 */
function conv2dFilterGradient(x: Float32Array, dy: Float32Array, info: backend_util.Conv2DInfo): Float64Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const grad = new Float64Array(filterHeight * filterWidth * inChannels * outChannels); // [fh, fw, inC, outC]
  const xOffsets = new Int32Array(batchSize * outHeight * outWidth); // [B·outH·outW], start of x[b, xR, xC, :]
  const dyOffsets = new Int32Array(batchSize * outHeight * outWidth); // [B·outH·outW], start of dy[b, yR, yC, :]

  for (let r = 0; r < filterHeight; r++) {
    const rowShift = r - top; // xR = yR·sH + rowShift
    const yRMin = Math.max(0, Math.ceil(-rowShift / strideHeight));
    const yRMax = Math.min(outHeight, Math.ceil((inHeight - rowShift) / strideHeight));
    for (let c = 0; c < filterWidth; c++) {
      const colShift = c - left; // xC = yC·sW + colShift
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
      accumulateXtDy(x, dy, xOffsets, dyOffsets, n, inChannels, outChannels, grad, (r * filterWidth + c) * inChannels * outChannels);
    }
  }
  return grad;
}

/**
 * grad[base + i·outC + o]! += Σ_{k < n} x[xOffsets[k] + i] · dy[dyOffsets[k] + o]: an
 * `[inC × outC]` block += Xᵀ·DY, in 4×4 register tiles (edges in 4×1, 1×4, 1×1) per block of positions.
 */
function accumulateXtDy(
  x: Float32Array, dy: Float32Array, xOffsets: Int32Array, dyOffsets: Int32Array, n: number,
  inC: number, outC: number, grad: Float64Array, base: number,
): void {
  const inMain = inC - (inC % 4);
  const outMain = outC - (outC % 4);
  for (let k0 = 0; k0 < n; k0 += BLOCK) {
    const k1 = Math.min(n, k0 + BLOCK);
    for (let i = 0; i < inMain; i += 4) {
      for (let o = 0; o < outMain; o += 4) {
        let a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0;
        let a20 = 0, a21 = 0, a22 = 0, a23 = 0, a30 = 0, a31 = 0, a32 = 0, a33 = 0;
        for (let k = k0; k < k1; k++) {
          const p = xOffsets[k]! + i;
          const q = dyOffsets[k]! + o;
          const x0 = x[p]!, x1 = x[p + 1]!, x2 = x[p + 2]!, x3 = x[p + 3]!;
          const d0 = dy[q]!, d1 = dy[q + 1]!, d2 = dy[q + 2]!, d3 = dy[q + 3]!;
          a00 += x0 * d0; a01 += x0 * d1; a02 += x0 * d2; a03 += x0 * d3;
          a10 += x1 * d0; a11 += x1 * d1; a12 += x1 * d2; a13 += x1 * d3;
          a20 += x2 * d0; a21 += x2 * d1; a22 += x2 * d2; a23 += x2 * d3;
          a30 += x3 * d0; a31 += x3 * d1; a32 += x3 * d2; a33 += x3 * d3;
        }
        const g = base + i * outC + o;
        grad[g]! += a00; grad[g + 1]! += a01; grad[g + 2]! += a02; grad[g + 3]! += a03;
        grad[g + outC]! += a10; grad[g + outC + 1]! += a11; grad[g + outC + 2]! += a12; grad[g + outC + 3]! += a13;
        grad[g + 2 * outC]! += a20; grad[g + 2 * outC + 1]! += a21; grad[g + 2 * outC + 2]! += a22; grad[g + 2 * outC + 3]! += a23;
        grad[g + 3 * outC]! += a30; grad[g + 3 * outC + 1]! += a31; grad[g + 3 * outC + 2]! += a32; grad[g + 3 * outC + 3]! += a33;
      }
      for (let o = outMain; o < outC; o++) {
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (let k = k0; k < k1; k++) {
          const p = xOffsets[k]! + i;
          const d = dy[dyOffsets[k]! + o]!;
          a0 += x[p]! * d; a1 += x[p + 1]! * d; a2 += x[p + 2]! * d; a3 += x[p + 3]! * d;
        }
        const g = base + i * outC + o;
        grad[g]! += a0; grad[g + outC]! += a1; grad[g + 2 * outC]! += a2; grad[g + 3 * outC]! += a3;
      }
    }
    for (let i = inMain; i < inC; i++) {
      for (let o = 0; o < outMain; o += 4) {
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (let k = k0; k < k1; k++) {
          const v = x[xOffsets[k]! + i]!;
          const q = dyOffsets[k]! + o;
          a0 += v * dy[q]!; a1 += v * dy[q + 1]!; a2 += v * dy[q + 2]!; a3 += v * dy[q + 3]!;
        }
        const g = base + i * outC + o;
        grad[g]! += a0; grad[g + 1]! += a1; grad[g + 2]! += a2; grad[g + 3]! += a3;
      }
      for (let o = outMain; o < outC; o++) {
        let a = 0;
        for (let k = k0; k < k1; k++) a += x[xOffsets[k]! + i]! * dy[dyOffsets[k]! + o]!;
        grad[base + i * outC + o]! += a;
      }
    }
  }
}
