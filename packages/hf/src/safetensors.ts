import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError, rejectUnknownOptions } from '@moekit/core';
import { bfloat16ToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16 } from './half-precision.js';

/**
 * The safetensors format (https://github.com/huggingface/safetensors, "Format"): 8 bytes holding the
 * header's length `N` as a little-endian u64, `N` bytes of UTF-8 JSON
 * `{"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`
 * (padded with spaces), then the byte buffer, every tensor little-endian and row-major at
 * `[begin, end)` of it, the tensors covering the buffer without holes or overlaps.
 */

/** The element types the format defines (the 8-bit floats are listed but not decoded). */
export type SafetensorsDtype = 'BOOL' | 'U8' | 'I8' | 'I16' | 'U16' | 'F16' | 'BF16' | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64' | 'F8_E4M3' | 'F8_E5M2';

/** Bytes per element of each dtype. */
const ELEMENT_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

/** The float types a float32 tensor can be written as. */
export type SafetensorsFloatDtype = 'F32' | 'F16' | 'BF16';

/** One tensor's entry in a safetensors header. */
export interface SafetensorsEntry {
  /** Element type. */
  dtype: SafetensorsDtype;
  /** Shape (`[]` for a scalar). */
  shape: number[];
  /** `[begin, end)` byte range in the data buffer (after the header). */
  dataOffsets: [number, number];
}

/** A parsed, validated safetensors header. */
export interface SafetensorsHeader {
  /** The tensors' entries by name, in the header's order. */
  entries: Map<string, SafetensorsEntry>;
  /** The `__metadata__` string map (empty when absent). */
  metadata: Record<string, string>;
  /** Byte offset of the data buffer in the file: `8 + N`. */
  dataStart: number;
}

/** What {@link decodeSafetensors} returns; the caller owns (and disposes) the tensors. */
export interface DecodedSafetensors {
  /** The tensors by name: float types as float32, integer types as int32, `BOOL` as bool. */
  tensors: Map<string, tf.Tensor>;
  /** The `__metadata__` string map. */
  metadata: Record<string, string>;
}

/** Options of {@link decodeSafetensors}. */
export interface DecodeSafetensorsOptions {
  /** Decode only these tensors (each must exist). Default: all. */
  names?: readonly string[];
}

/** Options of {@link encodeSafetensors}. */
export interface EncodeSafetensorsOptions {
  /** The `__metadata__` string map (e.g. `{ format: 'pt' }`, which `transformers` expects). */
  metadata?: Record<string, string>;
  /** The type float32 tensors are stored as: `'F32'` (default, exact), `'F16'` or `'BF16'` (rounded to nearest even). */
  floatDtype?: SafetensorsFloatDtype;
}

/** The format's cap on the header length (the reference implementation's `MAX_HEADER_SIZE`). */
const MAX_HEADER_BYTES = 100_000_000;

const describe = (value: unknown) => (typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value));

/**
 * Parses and validates the header of a safetensors file: the length prefix, the JSON, every entry's
 * dtype, shape and offsets (its byte count must match its shape, and the entries must cover the data
 * buffer exactly, without holes or overlaps, as the format requires). Reads no tensor data.
 *
 * @param bytes the whole file.
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { readSafetensorsHeader } from '@moekit/hf';
 *
 * const { entries } = readSafetensorsHeader(readFileSync('model.safetensors'));
 * for (const [name, { dtype, shape }] of entries) console.log(name, dtype, shape);
 * ```
 */
export function readSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  const where = 'readSafetensorsHeader';
  if (!(bytes instanceof Uint8Array)) throw new MoEArgumentError(where, 'bytes', 'a Uint8Array (the file contents)', describe(bytes));
  if (bytes.length < 8) throw new MoEArgumentError(where, 'bytes', 'at least 8 bytes (the header length)', `${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) {
    throw new MoEArgumentError(where, 'bytes', `a header length ≤ ${Math.min(MAX_HEADER_BYTES, bytes.length - 8)} (the file has ${bytes.length} bytes)`, String(headerLength));
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(8, 8 + headerLength));
  if (!text.startsWith('{')) throw new MoEArgumentError(where, 'bytes', "a JSON header starting with '{'", describe(text.slice(0, 16)));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MoEArgumentError(where, 'bytes', 'a header of valid JSON', `${(error as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new MoEArgumentError(where, 'bytes', 'a JSON object header', describe(json));
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = checkMetadata(where, value);
      continue;
    }
    entries.set(name, checkEntry(where, name, value));
  }
  // the entries must tile [0, dataLength) exactly
  const spans = [...entries].sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);
  let covered = 0;
  for (const [name, { dataOffsets }] of spans) {
    if (dataOffsets[0] !== covered) {
      throw new MoEArgumentError(where, 'bytes', `tensor '${name}' to start at byte ${covered} of the data (tensors cover the buffer without holes or overlaps)`, `data_offsets [${dataOffsets.join(', ')}]`);
    }
    covered = dataOffsets[1];
  }
  if (covered !== dataLength) throw new MoEArgumentError(where, 'bytes', `a data buffer of ${covered} bytes (the tensors' total)`, `${dataLength} bytes`);
  return { entries, metadata, dataStart };
}

function checkMetadata(where: string, value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new MoEArgumentError(where, 'bytes', "'__metadata__' as an object of strings", describe(value));
  }
  return { ...(value as Record<string, string>) };
}

function checkEntry(where: string, name: string, value: unknown): SafetensorsEntry {
  const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
  if (typeof entry !== 'object' || entry === null) throw new MoEArgumentError(where, 'bytes', `tensor '${name}' as {dtype, shape, data_offsets}`, describe(value));
  const dtype = entry.dtype;
  if (typeof dtype !== 'string' || !(dtype in ELEMENT_BYTES)) {
    throw new MoEArgumentError(where, 'bytes', `tensor '${name}' of a safetensors dtype (${Object.keys(ELEMENT_BYTES).join(', ')})`, describe(dtype));
  }
  const shape = entry.shape;
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
    throw new MoEArgumentError(where, 'bytes', `tensor '${name}' with a shape of non-negative integers`, describe(shape));
  }
  const offsets = entry.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isSafeInteger(o) || (o as number) < 0) || (offsets[0] as number) > (offsets[1] as number)) {
    throw new MoEArgumentError(where, 'bytes', `tensor '${name}' with data_offsets [begin, end], 0 ≤ begin ≤ end`, describe(offsets));
  }
  const byteCount = (shape as number[]).reduce((a, b) => a * b, 1) * ELEMENT_BYTES[dtype as SafetensorsDtype];
  if ((offsets[1] as number) - (offsets[0] as number) !== byteCount) {
    throw new MoEArgumentError(where, 'bytes', `tensor '${name}' of ${byteCount} bytes (shape [${shape.join(', ')}] of ${dtype})`, `data_offsets [${offsets.join(', ')}]`);
  }
  return { dtype: dtype as SafetensorsDtype, shape: [...(shape as number[])], dataOffsets: [offsets[0] as number, offsets[1] as number] };
}

/**
 * Reads a safetensors file into tfjs tensors. Float types become float32 (`F16` and `BF16` exactly,
 * `F64` rounded to float32); integer types become int32, an error naming the tensor if a value does
 * not fit; `BOOL` becomes bool. The 8-bit float types are an error naming the tensor.
 *
 * @param bytes the whole file.
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { decodeSafetensors } from '@moekit/hf';
 *
 * const { tensors, metadata } = decodeSafetensors(readFileSync('model.safetensors'));
 * const gate = tensors.get('model.layers.0.block_sparse_moe.gate.weight'); // [E, D] float32
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array, options: DecodeSafetensorsOptions = {}): DecodedSafetensors {
  const where = 'decodeSafetensors';
  rejectUnknownOptions(where, options, ['names']);
  const header = readSafetensorsHeader(bytes);
  const names = options.names ?? [...header.entries.keys()];
  for (const name of names) {
    if (!header.entries.has(name)) throw new MoEArgumentError(where, 'options.names', `names of tensors in the file (${header.entries.size} tensors)`, `'${name}'`);
  }
  const tensors = new Map<string, tf.Tensor>();
  try {
    for (const name of names) {
      const entry = header.entries.get(name)!;
      const begin = header.dataStart + entry.dataOffsets[0];
      // an aligned copy: a Node Buffer's own slice() is a view into its (pooled) ArrayBuffer, not a copy
      tensors.set(name, decodeTensor(where, name, entry, Uint8Array.prototype.slice.call(bytes, begin, header.dataStart + entry.dataOffsets[1])));
    }
  } catch (error) {
    tf.dispose([...tensors.values()]); // nothing leaks when one tensor cannot be decoded
    throw error;
  }
  return { tensors, metadata: header.metadata };
}

/** One tensor's bytes (an aligned copy) as a tfjs tensor. */
function decodeTensor(where: string, name: string, entry: SafetensorsEntry, data: Uint8Array): tf.Tensor {
  const { dtype, shape } = entry;
  const buffer = data.buffer;
  const size = shape.reduce((a, b) => a * b, 1);
  const halves = () => new Uint16Array(buffer, 0, size);
  switch (dtype) {
    case 'F32':
      return tf.tensor(new Float32Array(buffer, 0, size), shape, 'float32');
    case 'F64':
      return tf.tensor(Float32Array.from(new Float64Array(buffer, 0, size)), shape, 'float32');
    case 'F16':
      return tf.tensor(Float32Array.from(halves(), float16ToFloat32), shape, 'float32');
    case 'BF16':
      return tf.tensor(Float32Array.from(halves(), bfloat16ToFloat32), shape, 'float32');
    case 'I32':
      return tf.tensor(new Int32Array(buffer, 0, size), shape, 'int32');
    case 'I8':
      return tf.tensor(Int32Array.from(new Int8Array(buffer, 0, size)), shape, 'int32');
    case 'U8':
      return tf.tensor(Int32Array.from(data), shape, 'int32');
    case 'I16':
      return tf.tensor(Int32Array.from(new Int16Array(buffer, 0, size)), shape, 'int32');
    case 'U16':
      return tf.tensor(Int32Array.from(halves()), shape, 'int32');
    case 'U32':
      return tf.tensor(toInt32(where, name, dtype, new Uint32Array(buffer, 0, size)), shape, 'int32');
    case 'I64':
      return tf.tensor(toInt32(where, name, dtype, new BigInt64Array(buffer, 0, size)), shape, 'int32');
    case 'U64':
      return tf.tensor(toInt32(where, name, dtype, new BigUint64Array(buffer, 0, size)), shape, 'int32');
    case 'BOOL': {
      const bad = data.findIndex((b) => b > 1);
      if (bad >= 0) throw new MoEArgumentError(where, 'bytes', `tensor '${name}' (BOOL) of bytes 0 or 1`, `${data[bad]} at element ${bad}`);
      return tf.tensor(Uint8Array.from(data), shape, 'bool');
    }
    default:
      throw new MoEArgumentError(where, 'bytes', `tensor '${name}' of a dtype tfjs can hold (not the 8-bit floats)`, `'${dtype}'`);
  }
}

function toInt32(where: string, name: string, dtype: SafetensorsDtype, values: ArrayLike<number | bigint>): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (v < -2147483648 || v > 2147483647) throw new MoEArgumentError(where, 'bytes', `tensor '${name}' (${dtype}) with values that fit int32`, `${String(values[i])} at element ${i}`);
    out[i] = v;
  }
  return out;
}

/**
 * Writes tensors as a safetensors file: float32 as `F32` (or `F16` / `BF16`, rounded to nearest even),
 * int32 as `I32`, bool as `BOOL`. Tensors are laid out by element size, largest first, then by name
 * (so each starts aligned to its element size, as the reference writer lays them out), and the header
 * is padded with spaces to a multiple of 8 bytes. Reads each tensor with `await data()` (no
 * synchronous device read); does not dispose the tensors.
 *
 * @param tensors tensors by name (a name may not be empty or `__metadata__`).
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { encodeSafetensors } from '@moekit/hf';
 *
 * writeFileSync('model.safetensors', await encodeSafetensors({ 'lm_head.weight': kernel }, { metadata: { format: 'pt' } }));
 * ```
 */
export async function encodeSafetensors(tensors: ReadonlyMap<string, tf.Tensor> | Readonly<Record<string, tf.Tensor>>, options: EncodeSafetensorsOptions = {}): Promise<Uint8Array> {
  const where = 'encodeSafetensors';
  rejectUnknownOptions(where, options, ['metadata', 'floatDtype']);
  const floatDtype = options.floatDtype ?? 'F32';
  if (!['F32', 'F16', 'BF16'].includes(floatDtype)) throw new MoEArgumentError(where, 'options.floatDtype', "'F32', 'F16' or 'BF16'", describe(floatDtype));
  if (options.metadata !== undefined) checkMetadata(where, options.metadata);
  const named = tensors instanceof Map ? [...tensors] : Object.entries(tensors as Record<string, tf.Tensor>);
  const items = named.map(([name, tensor]) => {
    if (typeof name !== 'string' || name === '' || name === '__metadata__') throw new MoEArgumentError(where, 'tensors', "names that are non-empty and not '__metadata__'", describe(name));
    if (!(tensor instanceof tf.Tensor)) throw new MoEArgumentError(where, `tensors['${name}']`, 'a tf.Tensor', describe(tensor));
    if (tensor.isDisposed) throw new MoEArgumentError(where, `tensors['${name}']`, 'a live tensor', 'a disposed tensor');
    const dtype: SafetensorsDtype | undefined = tensor.dtype === 'float32' ? floatDtype : tensor.dtype === 'int32' ? 'I32' : tensor.dtype === 'bool' ? 'BOOL' : undefined;
    if (dtype === undefined) throw new MoEArgumentError(where, `tensors['${name}']`, 'a float32, int32 or bool tensor', `dtype ${tensor.dtype}`);
    return { name, tensor, dtype };
  });
  items.sort((a, b) => ELEMENT_BYTES[b.dtype] - ELEMENT_BYTES[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (options.metadata !== undefined) header['__metadata__'] = options.metadata;
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const { name, tensor, dtype } of items) {
    const chunk = encodeTensor(await tensor.data(), dtype);
    header[name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + chunk.length] };
    offset += chunk.length;
    chunks.push(chunk);
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(padded - json.length));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** One tensor's values in its stored dtype, as little-endian bytes. */
function encodeTensor(values: tf.TypedArray, dtype: SafetensorsDtype): Uint8Array {
  switch (dtype) {
    case 'F16':
      return new Uint8Array(Uint16Array.from(values as Float32Array, float32ToFloat16).buffer);
    case 'BF16':
      return new Uint8Array(Uint16Array.from(values as Float32Array, float32ToBfloat16).buffer);
    case 'BOOL':
      return Uint8Array.from(values as Uint8Array, (v) => (v ? 1 : 0));
    default: // F32, I32: tfjs's own little-endian arrays (copied: the tensor's buffer may be shared)
      return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  }
}
