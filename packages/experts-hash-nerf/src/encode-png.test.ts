import { crc32 as nodeCrc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, encodePng } from './encode-png.js';

describe('encodePng', () => {
  it('writes a valid PNG: signature, IHDR, a zlib IDAT that inflates to the filtered rows, IEND, correct CRCs', () => {
    const rgb = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90]); // 3 × 2 pixels
    const png = encodePng(3, 2, rgb);
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const view = new DataView(png.buffer, png.byteOffset);
    const chunks: { type: string; data: Uint8Array }[] = [];
    for (let o = 8; o < png.length;) {
      const len = view.getUint32(o);
      const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
      expect(view.getUint32(o + 8 + len)).toBe(nodeCrc32(png.subarray(o + 4, o + 8 + len))); // node's zlib CRC-32 as the reference
      chunks.push({ type, data: png.subarray(o + 8, o + 8 + len) });
      o += 12 + len;
    }
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(Array.from(chunks[0]!.data)).toEqual([0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0]); // 3 × 2, 8-bit RGB
    // each row: filter byte 0, then its 9 bytes
    expect(Array.from(inflateSync(chunks[1]!.data))).toEqual([0, ...rgb.subarray(0, 9), 0, ...rgb.subarray(9)]);
  });

  it('splits large images into 65535-byte stored blocks, and names a wrong buffer', () => {
    const rgb = new Uint8Array(200 * 200 * 3).map((_, i) => i % 251); // 120200 raw bytes: two blocks
    const png = encodePng(200, 200, rgb);
    const idatLength = new DataView(png.buffer).getUint32(33);
    const raw = inflateSync(png.subarray(41, 41 + idatLength));
    expect(raw.length).toBe(200 * 601);
    expect(Array.from(raw.subarray(601, 611))).toEqual([0, ...rgb.subarray(600, 609)]);
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926); // the CRC-32 check value
    expect(() => encodePng(2, 2, new Uint8Array(5))).toThrow("encodePng: argument 'rgb' expected 12 bytes (width · height · 3), got 5 bytes");
  });
});
