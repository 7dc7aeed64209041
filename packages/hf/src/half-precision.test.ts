import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bfloat16ToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16 } from './half-precision.js';

/** PyTorch's casts of 227 float32 values (scripts/golden/half_precision.py). */
const golden = JSON.parse(readFileSync(new URL('../../../scripts/golden/half_precision.json', import.meta.url), 'utf8')) as {
  float32: (number | string)[];
  float16Bits: number[];
  bfloat16Bits: number[];
  float16Back: (number | string)[];
  bfloat16Back: (number | string)[];
};
const num = (v: number | string) => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number));

describe('half-precision conversions', () => {
  it('hand-computed: 1 = 0x3c00 (F16) = 0x3f80 (BF16); 65504 is F16 max; 2^-24 is the smallest F16 subnormal', () => {
    expect(float32ToFloat16(1)).toBe(0x3c00);
    expect(float32ToBfloat16(1)).toBe(0x3f80);
    expect(float32ToFloat16(65504)).toBe(0x7bff);
    expect(float32ToFloat16(65520)).toBe(0x7c00); // halfway to the next binade rounds to Inf
    expect(float16ToFloat32(0x0001)).toBe(2 ** -24);
    expect(float16ToFloat32(0xc000)).toBe(-2);
    expect(bfloat16ToFloat32(0xc040)).toBe(-3);
    // 1 + 2^-11 lies halfway between F16 1 (0x3c00) and 1 + 2^-10 (0x3c01): ties to the even 0x3c00
    expect(float32ToFloat16(1 + 2 ** -11)).toBe(0x3c00);
    expect(float32ToFloat16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(Number.isNaN(float16ToFloat32(float32ToFloat16(NaN)))).toBe(true);
    expect(Number.isNaN(bfloat16ToFloat32(float32ToBfloat16(NaN)))).toBe(true);
  });

  it("match PyTorch's .half() and .bfloat16() bit for bit on 227 values (edge cases, subnormals, overflow, ties)", () => {
    const values = golden.float32.map(num);
    expect(values.map(float32ToFloat16)).toEqual(golden.float16Bits);
    expect(values.map(float32ToBfloat16)).toEqual(golden.bfloat16Bits);
    expect(golden.float16Bits.map(float16ToFloat32)).toEqual(golden.float16Back.map(num));
    expect(golden.bfloat16Bits.map(bfloat16ToFloat32)).toEqual(golden.bfloat16Back.map(num));
  });
});
