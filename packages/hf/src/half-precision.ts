/**
 * Conversions between float32 and the two 16-bit float formats checkpoints are stored in: IEEE 754
 * binary16 (`F16`) and bfloat16 (`BF16`, the top half of a float32). Widening is exact; narrowing
 * rounds to nearest, ties to even, as PyTorch's `.half()` and `.bfloat16()` do.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float32 value of the bfloat16 bits `bits` (exact). */
export function bfloat16ToFloat32(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0]!;
}

/** The bfloat16 bits nearest to `value` (ties to even; NaN stays NaN, ±Inf stays ±Inf). */
export function float32ToBfloat16(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x007fffff) !== 0) return (bits >>> 16) | 0x0040; // quiet NaN, sign kept
  const roundingBias = 0x7fff + ((bits >>> 16) & 1); // round to nearest, ties to even
  return ((bits + roundingBias) >>> 16) & 0xffff;
}

/** The float32 value of the binary16 bits `bits` (exact, subnormals included). */
export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero or subnormal
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** The binary16 bits nearest to `value` (ties to even; beyond ±65504 rounds to ±Inf, as IEEE 754). */
export function float32ToFloat16(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0); // Inf or quiet NaN
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (halfExponent <= 0) {
    // subnormal half (or zero): shift the full significand right, rounding to nearest even
    if (halfExponent < -10) return sign; // below half the smallest subnormal → ±0
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent; // 24-bit significand → 10-bit subnormal field
    const half = 1 << (shift - 1);
    const rest = significand & ((1 << shift) - 1);
    let result = significand >>> shift;
    if (rest > half || (rest === half && (result & 1) === 1)) result += 1;
    return sign | result;
  }
  let result = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (result & 1) === 1)) result += 1; // may carry into the exponent: correct (up to Inf)
  return sign | result;
}
