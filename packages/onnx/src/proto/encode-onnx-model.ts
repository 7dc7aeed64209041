/**
 * Writes an {@link OnnxGraph} as an ONNX `ModelProto` (the `.onnx` file format), by the field numbers
 * of onnx/onnx's `onnx/onnx.proto` (IR version 8, the one that goes with {@link ONNX_OPSET}).
 */
import { ONNX_OPSET, type OnnxAttributeValue, type OnnxDType, type OnnxGraph, type OnnxTensorValue, type OnnxValueInfo } from './onnx-graph.js';
import { ProtobufWriter } from './protobuf-writer.js';

/** `TensorProto.DataType` of each element type. */
const DATA_TYPE: Record<OnnxDType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };
/** `AttributeProto.AttributeType`. */
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;
/** The ONNX IR version of opset 18 (onnx 1.13). */
export const ONNX_IR_VERSION = 8;

/** What the model records besides its graph. */
export interface EncodeOnnxOptions {
  /** `producer_name` (default `'moekit'`). */
  producerName?: string;
  /** `producer_version`. */
  producerVersion?: string;
  /** `doc_string`: what the model is. */
  docString?: string;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The tensor's values as little-endian bytes (`raw_data`). */
function rawData(value: OnnxTensorValue): Uint8Array {
  const { data } = value;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (littleEndian || data.BYTES_PER_ELEMENT === 1) return bytes;
  const swapped = new Uint8Array(bytes.length);
  const n = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += n) for (let j = 0; j < n; j++) swapped[i + j] = bytes[i + n - 1 - j]!;
  return swapped;
}

function writeTensor(w: ProtobufWriter, value: OnnxTensorValue, name?: string): void {
  if (value.shape.length > 0) w.packedInts(1, value.shape); // dims
  w.int(2, DATA_TYPE[value.dtype]); // data_type
  if (name !== undefined) w.string(8, name); // name
  w.bytesField(9, rawData(value)); // raw_data
}

const isIntList = (value: OnnxAttributeValue): value is readonly number[] => Array.isArray(value);

function writeAttribute(w: ProtobufWriter, name: string, value: OnnxAttributeValue): void {
  w.string(1, name);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError(`ONNX attribute '${name}': ${value} is not an integer; pass { float: ${value} } for a float attribute`);
    w.int(20, ATTRIBUTE_TYPE.int).int(3, value);
  } else if (typeof value === 'string') {
    w.int(20, ATTRIBUTE_TYPE.string).string(4, value);
  } else if (isIntList(value)) {
    w.int(20, ATTRIBUTE_TYPE.ints);
    if (value.length > 0) w.packedInts(8, value);
  } else if ('float' in value) {
    w.int(20, ATTRIBUTE_TYPE.float).float(2, value.float);
  } else if ('floats' in value) {
    w.int(20, ATTRIBUTE_TYPE.floats);
    if (value.floats.length > 0) w.packedFloats(7, value.floats);
  } else {
    w.int(20, ATTRIBUTE_TYPE.tensor).message(5, (t) => writeTensor(t, value.tensor));
  }
}

function writeValueInfo(w: ProtobufWriter, info: OnnxValueInfo): void {
  w.string(1, info.name);
  w.message(2, (type) => type.message(1, (tensorType) => { // TypeProto.tensor_type
    tensorType.int(1, DATA_TYPE[info.dtype]); // elem_type
    tensorType.message(2, (shape) => { // TensorShapeProto
      for (const dim of info.shape) shape.message(1, (d) => (typeof dim === 'number' ? d.int(1, dim) : d.string(2, dim)));
    });
  }));
}

/** The graph as the bytes of a `.onnx` file. */
export function encodeOnnxModel(graph: OnnxGraph, options: EncodeOnnxOptions = {}): Uint8Array {
  const w = new ProtobufWriter();
  w.int(1, ONNX_IR_VERSION); // ir_version
  w.string(2, options.producerName ?? 'moekit'); // producer_name
  if (options.producerVersion !== undefined) w.string(3, options.producerVersion);
  if (options.docString !== undefined) w.string(6, options.docString);
  w.message(7, (g) => { // graph
    for (const node of graph.nodes) {
      g.message(1, (n) => {
        for (const input of node.inputs) n.string(1, input);
        for (const output of node.outputs) n.string(2, output);
        n.string(3, node.name);
        n.string(4, node.opType);
        for (const [name, value] of Object.entries(node.attributes)) n.message(5, (a) => writeAttribute(a, name, value));
      });
    }
    g.string(2, graph.name);
    for (const [name, value] of graph.initializers) g.message(5, (t) => writeTensor(t, value, name));
    for (const input of graph.inputs) g.message(11, (v) => writeValueInfo(v, input));
    for (const output of graph.outputs) g.message(12, (v) => writeValueInfo(v, output));
  });
  w.message(8, (o) => o.string(1, '').int(2, ONNX_OPSET)); // opset_import: ai.onnx
  return w.finish();
}
