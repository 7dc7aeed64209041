import { checkInteger, MoEArgumentError } from '@moekit/core';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; // the reflected CRC-32 polynomial
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, the PNG chunk checksum; PNG spec §5.5) of `bytes`. */
export function crc32(bytes: Uint8Array, initial = 0): number {
  let c = (initial ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Adler-32 (RFC 1950 §8), the zlib stream checksum. */
function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < bytes.length; i++) {
    a = (a + bytes[i]!) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** A zlib stream (RFC 1950) of stored (uncompressed) deflate blocks (RFC 1951 §3.2.4): no compressor needed. */
function zlibStored(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / 65535));
  const out = new Uint8Array(2 + blocks * 5 + data.length + 4);
  out[0] = 0x78; // CM = 8 (deflate), 32 KiB window
  out[1] = 0x01; // FCHECK: (0x78 · 256 + 0x01) % 31 = 0, no dictionary, fastest level
  let o = 2;
  for (let b = 0; b < blocks; b++) {
    const start = b * 65535;
    const len = Math.min(65535, data.length - start);
    out[o++] = b === blocks - 1 ? 1 : 0; // BFINAL, BTYPE = 00 (stored)
    out[o++] = len & 0xff;
    out[o++] = len >>> 8;
    out[o++] = ~len & 0xff;
    out[o++] = (~len >>> 8) & 0xff;
    out.set(data.subarray(start, start + len), o);
    o += len;
  }
  const check = adler32(data);
  out[o++] = check >>> 24;
  out[o++] = (check >>> 16) & 0xff;
  out[o++] = (check >>> 8) & 0xff;
  out[o] = check & 0xff;
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length))); // CRC over type and data
  return out;
}

/**
 * Encodes an 8-bit RGB image as a PNG file (PNG spec, ISO/IEC 15948): signature, `IHDR`, one `IDAT`
 * holding a zlib stream of stored deflate blocks (filter 0 on every row; uncompressed, so no zlib
 * dependency and browser-safe), `IEND`. Returns the file's bytes; the caller writes them.
 *
 * @param rgb `[height · width · 3]` bytes, row-major from the top-left.
 * @example
 * ```ts
 * import { encodePng } from '@moekit/experts-hash-nerf';
 *
 * const png = encodePng(2, 1, new Uint8Array([255, 0, 0, 0, 0, 255])); // a red and a blue pixel
 * ```
 */
export function encodePng(width: number, height: number, rgb: Uint8Array): Uint8Array {
  checkInteger('encodePng', 'width', width, 1);
  checkInteger('encodePng', 'height', height, 1);
  if (rgb.length !== width * height * 3) throw new MoEArgumentError('encodePng', 'rgb', `${width * height * 3} bytes (width · height · 3)`, `${rgb.length} bytes`);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type 2: truecolour RGB; compression, filter, interlace 0
  const raw = new Uint8Array(height * (1 + width * 3)); // each row: filter byte 0, then the pixels
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (1 + width * 3) + 1);
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', zlibStored(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
