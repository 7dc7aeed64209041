/**
 * Element-wise tfjs kernels: binary ones broadcast as NumPy does in both tfjs and ONNX
 * (multidirectional broadcasting), so most are one ONNX node; unary ones map one to one or to a short
 * formula (`Rsqrt` = 1/√x, `Square` = x·x). `FloorDiv` and `Mod` follow tfjs's floored semantics,
 * which ONNX's integer `Div` (truncating) and float `Mod` (fmod, C's sign) do not.
 */
import type { KernelCall, KernelConverter } from '../trace/kernel-converter.js';
import { castTo, scalarOf } from './onnx-helpers.js';

const binary = (opType: string): KernelConverter => ({ graph, inputs }: KernelCall) => [graph.op(opType, [inputs['a']!, inputs['b']!])];
const unary = (opType: string, attributes: Parameters<KernelCall['graph']['op']>[2] = {}): KernelConverter => ({ graph, inputs }: KernelCall) => [graph.op(opType, [inputs['x']!], attributes)];

/**
 * tfjs `floorDiv` (⌊a / b⌋): floats are `Floor(Div)`; int32 `Div` truncates toward zero, so a quotient
 * whose remainder is non-zero and of the other sign than `b` is one too large.
 */
const floorDiv: KernelConverter = ({ graph, inputs, inputTensors, outputs }) => {
  const { a, b } = inputs as { a: string; b: string };
  const from = inputTensors['a']!.dtype;
  // tfjs's cpu FloorDiv returns int32 whatever its inputs
  if (from !== 'int32') return [castTo(graph, graph.op('Floor', [graph.op('Div', [a, b])]), from, outputs[0]!.dtype)];
  const q = graph.op('Div', [a, b]);
  const r = graph.op('Sub', [a, graph.op('Mul', [q, b])]);
  const zero = scalarOf(graph, 'int32', 0);
  const signsDiffer = graph.op('Xor', [graph.op('Less', [r, zero]), graph.op('Less', [b, zero])]);
  const adjust = graph.op('And', [graph.op('Not', [graph.op('Equal', [r, zero])]), signsDiffer]);
  return [castTo(graph, graph.op('Where', [adjust, graph.op('Sub', [q, scalarOf(graph, 'int32', 1)]), q]), 'int32', outputs[0]!.dtype)];
};

/** tfjs `mod`: the remainder takes the divisor's sign, a − ⌊a / b⌋·b (ONNX `Mod` fmod=0 for int32). */
const mod: KernelConverter = (call) => {
  const { graph, inputs, outputs } = call;
  if (outputs[0]!.dtype === 'int32') return [graph.op('Mod', [inputs['a']!, inputs['b']!], { fmod: 0 })];
  const quotient = graph.op('Floor', [graph.op('Div', [inputs['a']!, inputs['b']!])]);
  return [graph.op('Sub', [inputs['a']!, graph.op('Mul', [quotient, inputs['b']!])])];
};

/** Converters of the element-wise kernels, by tfjs kernel name. */
export const elementwiseConverters: Record<string, KernelConverter> = {
  Add: binary('Add'),
  Sub: binary('Sub'),
  Multiply: binary('Mul'),
  RealDiv: binary('Div'),
  Maximum: binary('Max'),
  Minimum: binary('Min'),
  Pow: binary('Pow'),
  FloorDiv: floorDiv,
  Mod: mod,
  SquaredDifference: ({ graph, inputs }) => {
    const d = graph.op('Sub', [inputs['a']!, inputs['b']!]);
    return [graph.op('Mul', [d, d])];
  },
  AddN: ({ graph, inputs }) => {
    const terms = Object.keys(inputs).sort((p, q) => Number(p) - Number(q)).map((k) => inputs[k]!);
    return [terms.slice(1).reduce((sum, t) => graph.op('Add', [sum, t]), terms.length === 1 ? graph.op('Identity', [terms[0]!]) : terms[0]!)];
  },
  ClipByValue: ({ graph, inputs, attrs, outputs }) => {
    const dtype = outputs[0]!.dtype;
    return [graph.op('Clip', [inputs['x']!, scalarOf(graph, dtype, attrs['clipValueMin'] as number), scalarOf(graph, dtype, attrs['clipValueMax'] as number)])];
  },
  Relu: unary('Relu'),
  Relu6: ({ graph, inputs, outputs }) => [graph.op('Clip', [inputs['x']!, scalarOf(graph, outputs[0]!.dtype, 0), scalarOf(graph, outputs[0]!.dtype, 6)])],
  LeakyRelu: ({ graph, inputs, attrs }) => [graph.op('LeakyRelu', [inputs['x']!], { alpha: { float: attrs['alpha'] as number } })],
  Elu: unary('Elu', { alpha: { float: 1 } }),
  Exp: unary('Exp'),
  Log: unary('Log'),
  Log1p: ({ graph, inputs }) => [graph.op('Log', [graph.op('Add', [inputs['x']!, scalarOf(graph, 'float32', 1)])])],
  Neg: unary('Neg'),
  Abs: unary('Abs'),
  Sign: unary('Sign'),
  Sqrt: unary('Sqrt'),
  Rsqrt: ({ graph, inputs }) => [graph.op('Reciprocal', [graph.op('Sqrt', [inputs['x']!])])],
  Reciprocal: unary('Reciprocal'),
  Square: ({ graph, inputs }) => [graph.op('Mul', [inputs['x']!, inputs['x']!])],
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  Softplus: unary('Softplus'),
  Erf: unary('Erf'),
  Floor: unary('Floor'),
  Ceil: unary('Ceil'),
  // tfjs rounds half to even, as ONNX Round does
  Round: unary('Round'),
  IsNan: ({ graph, inputs, inputTensors }) => [graph.op('IsNaN', [castTo(graph, inputs['x']!, inputTensors['x']!.dtype, 'float32')])],
};
