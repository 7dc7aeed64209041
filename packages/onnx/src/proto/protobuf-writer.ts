/**
 * A minimal protocol-buffers writer: varints, 64-bit integers, fixed 32-bit floats, length-delimited
 * bytes and nested messages: what the ONNX model format (`onnx.proto`, proto2/proto3 wire format) needs
 * to be written. Reading is not needed: ONNX Runtime reads what this writes.
 *
 * Wire format: https://protobuf.dev/programming-guides/encoding/ (a field is `tag = (number << 3) | type`
 * as a varint, then the value: type 0 varint, type 2 length-delimited, type 5 fixed 32 bits).
 */

const VARINT = 0;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

const utf8 = new TextEncoder();

/** Appends protobuf fields to a growing byte buffer. */
export class ProtobufWriter {
  private bytes = new Uint8Array(256);
  private length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  private rawVarint(value: bigint): void {
    // negative int64 values are written as their 64-bit two's complement (10 bytes), as protobuf does
    let v = BigInt.asUintN(64, value);
    this.reserve(10);
    while (v >= 0x80n) {
      this.bytes[this.length++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.bytes[this.length++] = Number(v);
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(BigInt((field << 3) | wireType));
  }

  /** An int32/int64/enum/bool field (varint). */
  int(field: number, value: number | bigint): this {
    const v = typeof value === 'bigint' ? value : BigInt(value);
    this.tag(field, VARINT);
    this.rawVarint(v);
    return this;
  }

  /** A `float` field (fixed 32 bits, little-endian). */
  float(field: number, value: number): this {
    this.tag(field, FIXED32);
    this.reserve(4);
    new DataView(this.bytes.buffer, this.bytes.byteOffset + this.length, 4).setFloat32(0, value, true);
    this.length += 4;
    return this;
  }

  /** A `bytes` field. */
  bytesField(field: number, value: Uint8Array): this {
    this.tag(field, LENGTH_DELIMITED);
    this.rawVarint(BigInt(value.length));
    this.reserve(value.length);
    this.bytes.set(value, this.length);
    this.length += value.length;
    return this;
  }

  /** A `string` field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytesField(field, utf8.encode(value));
  }

  /** An embedded message field, written by `write` into its own writer. */
  message(field: number, write: (w: ProtobufWriter) => void): this {
    const inner = new ProtobufWriter();
    write(inner);
    return this.bytesField(field, inner.finish());
  }

  /** A packed repeated int64/int32 field (one length-delimited run of varints). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtobufWriter();
    for (const v of values) inner.rawVarint(typeof v === 'bigint' ? v : BigInt(v));
    return this.bytesField(field, inner.finish());
  }

  /** A packed repeated float field. */
  packedFloats(field: number, values: readonly number[]): this {
    const data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return this.bytesField(field, data);
  }

  /** The bytes written so far. */
  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}
