import * as tf from '@tensorflow/tfjs';
import { MoEArgumentError } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, readSafetensorsHeader } from './safetensors.js';

/** A safetensors file from its JSON header and data bytes, as the format defines it. */
function file(header: object | string, data: number[] = []): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
const f32Bytes = (values: number[]) => [...new Uint8Array(new Float32Array(values).buffer)];

describe('encodeSafetensors', () => {
  it('writes the byte layout of the format: u64 LE header length, JSON padded with spaces to 8 bytes, data', async () => {
    const a = tf.tensor1d([1, 2]);
    const bytes = await encodeSafetensors({ a });
    const header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes → padded to 56
    expect(bytes.length).toBe(8 + 56 + 8);
    expect([...bytes.subarray(0, 8)]).toEqual([56, 0, 0, 0, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(bytes.subarray(8, 64))).toBe(header + '  ');
    expect([...bytes.subarray(64)]).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]); // 1.0f, 2.0f little-endian
    a.dispose();
  });

  it('lays tensors out by element size then name, and round-trips float32, int32, bool and metadata exactly', async () => {
    await expectNoLeakedTensors(async () => {
      const tensors = new Map<string, tf.Tensor>([
        ['z.bool', tf.tensor([true, false, true], [3], 'bool')],
        ['b.float', tf.tensor2d([[1.5, -2.25, 3.1415927], [1e-30, -0, 65504]])],
        ['a.int', tf.tensor([[-7], [2147483647]], [2, 1], 'int32')],
        ['scalar', tf.scalar(0.5)],
      ]);
      const bytes = await encodeSafetensors(tensors, { metadata: { format: 'pt' } });
      const { entries, metadata } = readSafetensorsHeader(bytes);
      expect(metadata).toEqual({ format: 'pt' });
      expect([...entries].map(([name, e]) => [name, e.dtype, e.dataOffsets])).toEqual([
        ['a.int', 'I32', [0, 8]],
        ['b.float', 'F32', [8, 32]],
        ['scalar', 'F32', [32, 36]],
        ['z.bool', 'BOOL', [36, 39]],
      ]);
      const decoded = decodeSafetensors(bytes);
      for (const [name, tensor] of tensors) {
        const back = decoded.tensors.get(name)!;
        expect(back.dtype).toBe(tensor.dtype);
        expect(back.shape).toEqual(tensor.shape);
        expect(Array.from(back.dataSync())).toEqual(Array.from(tensor.dataSync()));
      }
      tf.dispose([...tensors.values(), ...decoded.tensors.values()]);
    });
  });

  it('stores float32 as F16 or BF16 when asked (rounded to nearest even) and reads them back as float32', async () => {
    const x = tf.tensor1d([1, 1 + 2 ** -11, 3, -0.1]);
    const half = decodeSafetensors(await encodeSafetensors({ x }, { floatDtype: 'F16' })).tensors.get('x')!;
    const brain = decodeSafetensors(await encodeSafetensors({ x }, { floatDtype: 'BF16' })).tensors.get('x')!;
    expect(readSafetensorsHeader(await encodeSafetensors({ x }, { floatDtype: 'BF16' })).entries.get('x')!.dtype).toBe('BF16');
    expect(Array.from(half.dataSync())).toEqual([1, 1, 3, -0.0999755859375]);
    expect(Array.from(brain.dataSync())).toEqual([1, 1, 3, -0.10009765625]);
    tf.dispose([x, half, brain]);
  });

  it('rejects bad names, dtypes, disposed tensors and options by name', async () => {
    const s = tf.tensor1d(['a'], 'string' as never);
    await expect(encodeSafetensors({ s })).rejects.toThrow("encodeSafetensors: argument 'tensors['s']' expected a float32, int32 or bool tensor, got dtype string");
    await expect(encodeSafetensors({ __metadata__: tf.scalar(1) })).rejects.toThrow(MoEArgumentError);
    const gone = tf.scalar(1);
    gone.dispose();
    await expect(encodeSafetensors({ gone })).rejects.toThrow("argument 'tensors['gone']' expected a live tensor, got a disposed tensor");
    await expect(encodeSafetensors({}, { floatDtype: 'F8' as never })).rejects.toThrow("argument 'options.floatDtype' expected 'F32', 'F16' or 'BF16', got 'F8'");
    await expect(encodeSafetensors({}, { metadata: { n: 1 as never } })).rejects.toThrow("'__metadata__' as an object of strings");
    s.dispose();
  });
});

describe('decodeSafetensors', () => {
  it('reads a hand-written file: F16, BF16, I64, U8 and F64, converted to float32 / int32', () => {
    const data = [
      0x00, 0x3c, 0x00, 0xc0, // F16 [1, -2]
      0x80, 0x3f, 0x40, 0xc0, // BF16 [1, -3]
      ...new Uint8Array(new BigInt64Array([-5n, 7n]).buffer), // I64 [-5, 7]
      255, 1, // U8 [255, 1]
      ...new Uint8Array(new Float64Array([0.1]).buffer), // F64 [0.1]
    ];
    const bytes = file({
      h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
      b: { dtype: 'BF16', shape: [2, 1], data_offsets: [4, 8] },
      i: { dtype: 'I64', shape: [2], data_offsets: [8, 24] },
      u: { dtype: 'U8', shape: [2], data_offsets: [24, 26] },
      d: { dtype: 'F64', shape: [], data_offsets: [26, 34] },
    }, data);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({});
    expect(Array.from(tensors.get('h')!.dataSync())).toEqual([1, -2]);
    expect(tensors.get('b')!.shape).toEqual([2, 1]);
    expect(Array.from(tensors.get('b')!.dataSync())).toEqual([1, -3]);
    expect(tensors.get('i')!.dtype).toBe('int32');
    expect(Array.from(tensors.get('i')!.dataSync())).toEqual([-5, 7]);
    expect(Array.from(tensors.get('u')!.dataSync())).toEqual([255, 1]);
    expect(tensors.get('d')!.shape).toEqual([]);
    expect(tensors.get('d')!.dataSync()[0]).toBe(Math.fround(0.1));
    tf.dispose([...tensors.values()]);
  });

  it('reads a Node Buffer that shares a pooled ArrayBuffer (what readFileSync returns) at its own offset', async () => {
    const [a, c] = [tf.tensor1d([1, 2]), tf.tensor1d([4, 5, 6], 'int32')];
    const bytes = await encodeSafetensors({ a, c });
    const pooled = Buffer.from(bytes); // a small Buffer lives at an offset inside Node's shared pool; its slice() is a view
    const { tensors } = decodeSafetensors(pooled);
    expect(tensors.get('a')!.arraySync()).toEqual([1, 2]);
    expect(tensors.get('c')!.arraySync()).toEqual([4, 5, 6]);
    tf.dispose([a, c, ...tensors.values()]);
  });

  it('decodes only the names asked for, and rejects an unknown one by name', () => {
    const bytes = file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32Bytes([1, 2]));
    const { tensors } = decodeSafetensors(bytes, { names: ['b'] });
    expect([...tensors.keys()]).toEqual(['b']);
    tf.dispose([...tensors.values()]);
    expect(() => decodeSafetensors(bytes, { names: ['c'] })).toThrow("decodeSafetensors: argument 'options.names' expected names of tensors in the file (2 tensors), got 'c'");
  });

  const broken: [string, Uint8Array, string][] = [
    ['too short', new Uint8Array(4), "argument 'bytes' expected at least 8 bytes (the header length), got 4 bytes"],
    ['header longer than the file', file('{}').subarray(0, 9), 'expected a header length ≤ 1 (the file has 9 bytes), got 2'],
    ['not JSON', file('{oops'), 'expected a header of valid JSON'],
    ['not an object', file('[1]'), "expected a JSON header starting with '{', got '[1]'"],
    ['unknown dtype', file({ a: { dtype: 'F4', shape: [1], data_offsets: [0, 4] } }, f32Bytes([1])), "tensor 'a' of a safetensors dtype"],
    ['negative dimension', file({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32Bytes([1])), "tensor 'a' with a shape of non-negative integers, got [-1]"],
    ['size does not match the shape', file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, f32Bytes([1])), "expected tensor 'a' of 8 bytes (shape [2] of F32), got data_offsets [0, 4]"],
    ['a hole', file({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32Bytes([1, 2])), "expected tensor 'a' to start at byte 0 of the data"],
    ['overlap', file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32Bytes([1, 2])), 'to start at byte 8 of the data'],
    ['trailing bytes', file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32Bytes([1, 2])), 'expected a data buffer of 4 bytes (the tensors\' total), got 8 bytes'],
    ['bad metadata', file({ __metadata__: { a: 1 } }), "'__metadata__' as an object of strings"],
    ['I64 beyond int32', file({ a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, [...new Uint8Array(new BigInt64Array([1n << 40n]).buffer)]), "tensor 'a' (I64) with values that fit int32, got 1099511627776 at element 0"],
    ['BOOL not 0/1', file({ a: { dtype: 'BOOL', shape: [1], data_offsets: [0, 1] } }, [2]), "tensor 'a' (BOOL) of bytes 0 or 1, got 2 at element 0"],
    ['8-bit float', file({ a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, [0]), "tensor 'a' of a dtype tfjs can hold (not the 8-bit floats), got 'F8_E4M3'"],
  ];
  for (const [what, bytes, message] of broken) {
    it(`rejects a file with ${what} by name, leaking nothing`, async () => {
      await expectNoLeakedTensors(() => {
        expect(() => decodeSafetensors(bytes)).toThrow(MoEArgumentError);
        expect(() => decodeSafetensors(bytes)).toThrow(message);
      });
    });
  }

  it('a header with trailing spaces and an empty tensor list is valid', () => {
    const { tensors, metadata } = decodeSafetensors(file('{"__metadata__":{"format":"pt"}}       '));
    expect(tensors.size).toBe(0);
    expect(metadata).toEqual({ format: 'pt' });
  });
});
