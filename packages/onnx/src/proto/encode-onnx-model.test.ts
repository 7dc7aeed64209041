import { describe, expect, it } from 'vitest';
import { runOnnx } from '../testing/run-onnx.js';
import { encodeOnnxModel } from './encode-onnx-model.js';
import { OnnxGraph, tensorValue } from './onnx-graph.js';
import { ProtobufWriter } from './protobuf-writer.js';

describe('ProtobufWriter', () => {
  it('writes varints, negative int64s, floats and nested messages as protobuf does', () => {
    // field 1 = 150: the protobuf docs' own example, 08 96 01
    expect([...new ProtobufWriter().int(1, 150).finish()]).toEqual([0x08, 0x96, 0x01]);
    // -1 as int64: ten bytes, ff ff ff ff ff ff ff ff ff 01
    expect([...new ProtobufWriter().int(2, -1).finish()]).toEqual([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    // float 1.0 = 0x3f800000 little-endian, wire type 5
    expect([...new ProtobufWriter().float(3, 1).finish()]).toEqual([0x1d, 0x00, 0x00, 0x80, 0x3f]);
    // string "ab" in field 2 of a message in field 4
    expect([...new ProtobufWriter().message(4, (m) => m.string(2, 'ab')).finish()]).toEqual([0x22, 0x04, 0x12, 0x02, 0x61, 0x62]);
    // packed [3, 270] in field 4: 22 03 03 8e 02
    expect([...new ProtobufWriter().packedInts(4, [3, 270]).finish()]).toEqual([0x22, 0x03, 0x03, 0x8e, 0x02]);
  });
});

describe('encodeOnnxModel', () => {
  it('writes a model ONNX Runtime loads and runs: MatMul, Add, Relu, TopK, Gather, Cast, Equal', async () => {
    const g = new OnnxGraph('check');
    const x = g.addInput('x', 'float32', ['T', 2]);
    const w = g.addInitializer(tensorValue('float32', [2, 3], [1, 0, -1, 0, 1, 2]));
    const h = g.op('Relu', [g.op('Add', [g.op('MatMul', [x, w]), g.constant('float32', [0.5, 0.5, 0.5], [3])])]);
    const [values, indices] = g.node('TopK', [h, g.constant('int64', [1])], { axis: -1, largest: 1, sorted: 1 }, 2);
    const index32 = g.op('Cast', [indices!], { to: 6 });
    const picked = g.op('Gather', [g.constant('float32', [10, 20, 30], [3]), index32], { axis: 0 });
    const isTwo = g.op('Equal', [index32, g.constant('int32', 2)]);
    g.node('Identity', [values!], {}, ['top']);
    g.node('Identity', [picked], {}, ['picked']);
    g.node('Identity', [isTwo], {}, ['is_two']);
    g.addOutput('top', 'float32', ['T', 1]);
    g.addOutput('picked', 'float32', ['T', 1]);
    g.addOutput('is_two', 'bool', ['T', 1]);
    const model = encodeOnnxModel(g, { producerVersion: '0.1.0', docString: 'a check' });
    const out = await runOnnx(model, { x: { data: Float32Array.from([1, 2, 3, -1]), dims: [2, 2] } });
    // row 0: [1, 2, 3] + 0.5 → top 3.5 at index 2; row 1: [3, -1, -5] + 0.5 → relu [3.5, 0, 0] → index 0
    expect(out['top']).toEqual({ dims: [2, 1], data: [3.5, 3.5] });
    expect(out['picked']).toEqual({ dims: [2, 1], data: [30, 10] });
    expect(out['is_two']).toEqual({ dims: [2, 1], data: [1, 0] });
  });

  it('writes float, floats, ints and tensor attributes, and int64/bool initializers', async () => {
    const g = new OnnxGraph();
    const x = g.addInput('x', 'float32', [2, 3]);
    const clipped = g.op('LeakyRelu', [x], { alpha: { float: 0.25 } });
    const t = g.op('Transpose', [clipped], { perm: [1, 0] });
    const c = g.op('ConstantOfShape', [g.constant('int64', [2])], { value: { tensor: tensorValue('int32', [1], [7]) } });
    const b = g.addInitializer(tensorValue('bool', [2], [1, 0]));
    const where = g.op('Where', [b, c, g.constant('int32', [-1, -1])]);
    g.node('Identity', [t], {}, ['t']);
    g.node('Identity', [where], {}, ['where']);
    g.addOutput('t', 'float32', [3, 2]);
    g.addOutput('where', 'int32', [2]);
    const out = await runOnnx(encodeOnnxModel(g), { x: { data: Float32Array.from([1, -4, 2, -8, 3, 0]), dims: [2, 3] } });
    expect(out['t']).toEqual({ dims: [3, 2], data: [1, -2, -1, 3, 2, 0] });
    expect(out['where']).toEqual({ dims: [2], data: [7, -1] });
  });

  it('names a non-integer int attribute, an undefined input and a reused name', () => {
    const g = new OnnxGraph();
    const x = g.addInput('x', 'float32', [1]);
    expect(() => g.op('Relu', ['nope'])).toThrow(/input of Relu.*a value defined earlier in the graph.*'nope'/);
    expect(() => g.addInput('x', 'float32', [1])).toThrow(/input name.*not used yet.*'x'/);
    g.node('Softmax', [x], { axis: 0.5 }, ['y']);
    g.addOutput('y', 'float32', [1]);
    expect(() => encodeOnnxModel(g)).toThrow(/'axis': 0.5 is not an integer; pass \{ float: 0.5 \}/);
    expect(() => tensorValue('float32', [2, 2], [1, 2, 3])).toThrow(/4 values for shape \[2, 2\].*3/);
  });
});
