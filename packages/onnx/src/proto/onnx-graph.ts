/**
 * An ONNX graph under construction: inputs, outputs, initializers (weights and constants) and nodes,
 * with fresh value names and de-duplicated constants. {@link encodeOnnxModel} writes it as an ONNX
 * `ModelProto`. Operators are the standard `ai.onnx` ones at {@link ONNX_OPSET}.
 */
import { MoEArgumentError } from '@moekit/core';

/** The element types moekit's graphs use (tfjs's float32, int32 and bool, and ONNX's int64 shapes). */
export type OnnxDType = 'float32' | 'int32' | 'int64' | 'bool';

/** A tensor value: an initializer, a constant, or a `tensor` attribute. */
export interface OnnxTensorValue {
  /** Element type. */
  dtype: OnnxDType;
  /** Dimensions (`[]` for a scalar). */
  shape: readonly number[];
  /** Row-major values: `Float32Array` (float32), `Int32Array` (int32), `BigInt64Array` (int64), `Uint8Array` of 0/1 (bool). */
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
}

/**
 * An attribute: an integer (`number`, must be an integer), integers (`number[]`), a string, or a
 * tagged float, floats or tensor (ONNX keeps int and float attributes apart; JavaScript does not).
 */
export type OnnxAttributeValue = number | readonly number[] | string | OnnxFloatAttribute | OnnxFloatsAttribute | OnnxTensorAttribute;

/** A float attribute (`{ float: 0.25 }`). */
export interface OnnxFloatAttribute {
  /** The value. */
  float: number;
}

/** A list-of-floats attribute. */
export interface OnnxFloatsAttribute {
  /** The values. */
  floats: readonly number[];
}

/** A tensor attribute (e.g. `ConstantOfShape`'s `value`). */
export interface OnnxTensorAttribute {
  /** The tensor. */
  tensor: OnnxTensorValue;
}

/** One node of the graph. */
export interface OnnxNode {
  /** Operator (`MatMul`, `TopK`, …). */
  opType: string;
  /** Input value names; `''` for an omitted optional input. */
  inputs: string[];
  /** Output value names. */
  outputs: string[];
  /** Unique node name. */
  name: string;
  /** Attributes by name. */
  attributes: Record<string, OnnxAttributeValue>;
}

/** A graph input or output: name, element type and shape (a string is a symbolic dimension). */
export interface OnnxValueInfo {
  /** Value name. */
  name: string;
  /** Element type. */
  dtype: OnnxDType;
  /** Dimensions: numbers, or names of dimensions fixed only at run time. */
  shape: readonly (number | string)[];
}

/** The `ai.onnx` operator set moekit's graphs are written for (ONNX Runtime ≥ 1.14 runs it). */
export const ONNX_OPSET = 18;

const WHERE = 'OnnxGraph';

/** Builds an ONNX graph: see the module comment. */
export class OnnxGraph {
  /** Nodes, in topological order (each reads only values defined before it). */
  readonly nodes: OnnxNode[] = [];
  /** Graph inputs. */
  readonly inputs: OnnxValueInfo[] = [];
  /** Graph outputs. */
  readonly outputs: OnnxValueInfo[] = [];
  /** Initializers by name: weights and constants. */
  readonly initializers = new Map<string, OnnxTensorValue>();
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();
  private counter = 0;

  /** @param name the graph's name, written into the model. */
  constructor(readonly name = 'moekit') {}

  /** A value name not used yet, `prefix` plus a number. */
  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  /** `base` if no value has that name yet, else `base_N` for the first free N (nothing is claimed). */
  uniqueName(base: string): string {
    if (!this.names.has(base)) return base;
    let n = 1;
    while (this.names.has(`${base}_${n}`)) n++;
    return `${base}_${n}`;
  }

  private claim(name: string, what: string): string {
    if (this.names.has(name)) throw new MoEArgumentError(WHERE, what, 'a value name not used yet in the graph', `'${name}'`);
    this.names.add(name);
    return name;
  }

  /** Declares a graph input and returns its name. */
  addInput(name: string, dtype: OnnxDType, shape: readonly (number | string)[]): string {
    this.inputs.push({ name: this.claim(name, 'input name'), dtype, shape });
    return name;
  }

  /** Declares an existing value as a graph output under its own name. */
  addOutput(name: string, dtype: OnnxDType, shape: readonly (number | string)[]): void {
    if (!this.names.has(name)) throw new MoEArgumentError(WHERE, 'output name', 'a value defined in the graph', `'${name}'`);
    this.outputs.push({ name, dtype, shape });
  }

  /** Adds a weight (or any fixed tensor) as an initializer and returns its name. */
  addInitializer(value: OnnxTensorValue, name?: string): string {
    checkTensorValue(value, 'initializer');
    const claimed = name === undefined ? this.fresh('w') : this.claim(name, 'initializer name');
    this.initializers.set(claimed, value);
    return claimed;
  }

  /**
   * A constant tensor of `dtype` (a scalar from a number; a vector, or `shape`, from a list), kept once
   * per distinct value and shape however often it is asked for.
   */
  constant(dtype: OnnxDType, values: number | readonly number[], shape?: readonly number[]): string {
    const list = typeof values === 'number' ? [values] : [...values];
    const dims = shape ?? (typeof values === 'number' ? [] : [list.length]);
    const key = `${dtype}|${dims.join(',')}|${list.join(',')}`;
    const known = this.constants.get(key);
    if (known !== undefined) return known;
    const name = this.fresh(`c_${dtype}`);
    this.initializers.set(name, tensorValue(dtype, dims, list));
    this.constants.set(key, name);
    return name;
  }

  /**
   * Adds a node and returns its output names: `outputs` fresh ones (a count), or the names given.
   * Inputs must be defined already (or `''` for an omitted optional input).
   */
  node(opType: string, inputs: readonly string[], attributes: Record<string, OnnxAttributeValue> = {}, outputs: number | readonly string[] = 1): string[] {
    for (const input of inputs) {
      if (input !== '' && !this.names.has(input)) throw new MoEArgumentError(WHERE, `input of ${opType}`, 'a value defined earlier in the graph', `'${input}'`);
    }
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase())) : outputs.map((o) => this.claim(o, `output of ${opType}`));
    this.nodes.push({ opType, inputs: [...inputs], outputs: outs, name: `${opType}_${this.nodes.length}`, attributes });
    return outs;
  }

  /** {@link node} with one output, returned. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, OnnxAttributeValue> = {}): string {
    return this.node(opType, inputs, attributes, 1)[0]!;
  }
}

/** A tensor value of `dtype` and `shape` from plain numbers. */
export function tensorValue(dtype: OnnxDType, shape: readonly number[], values: readonly number[]): OnnxTensorValue {
  const data = dtype === 'float32' ? Float32Array.from(values)
    : dtype === 'int32' ? Int32Array.from(values)
    : dtype === 'int64' ? BigInt64Array.from(values, (v) => BigInt(Math.trunc(v)))
    : Uint8Array.from(values, (v) => (v ? 1 : 0));
  const value = { dtype, shape: [...shape], data };
  checkTensorValue(value, 'constant');
  return value;
}

/** Throws unless the data's type matches `dtype` and its length the shape's size. */
export function checkTensorValue(value: OnnxTensorValue, what: string): void {
  const size = value.shape.reduce((a, b) => a * b, 1);
  const expected = { float32: Float32Array, int32: Int32Array, int64: BigInt64Array, bool: Uint8Array }[value.dtype];
  if (!(value.data instanceof expected)) throw new MoEArgumentError(WHERE, `${what} data`, `a ${expected.name} for dtype ${value.dtype}`, value.data.constructor.name);
  if (value.data.length !== size) throw new MoEArgumentError(WHERE, `${what} data`, `${size} values for shape [${value.shape.join(', ')}]`, `${value.data.length}`);
}
