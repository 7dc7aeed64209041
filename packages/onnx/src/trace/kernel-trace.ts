/**
 * Records what tfjs computes as an ONNX graph: while {@link KernelTrace.record} runs a function, every
 * kernel the tfjs engine runs (the outermost call: a kernel's own inner calls are its business) is
 * converted to ONNX nodes by its registered converter. Tensors bound to graph values (the graph
 * inputs) start the trace; any other tensor a kernel reads — a weight, a constant the code made —
 * becomes an initializer holding its current values. Everything is static: a trace is valid for
 * inputs of the shapes it was recorded with.
 *
 * A host read (`dataSync`, `data`) of a value computed from a bound input would bake one input's
 * data into the graph (a data-dependent shape or branch); the trace refuses it by name. Weights and
 * constants may be read. {@link KernelTrace.paused} runs code unrecorded (a part emitted by hand); its
 * results are bound to the hand-made values with {@link KernelTrace.bind}.
 *
 * The hooks are instance properties on tfjs's engine (as `countHostReads` in `@moekit/core/testing`),
 * removed when `record` returns or throws.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '@moekit/core';
import { tensorValue, type OnnxGraph, type OnnxTensorValue } from '../proto/onnx-graph.js';
import { kernelConverter, type KernelCall } from './kernel-converter.js';
import { onnxDType } from './onnx-dtype.js';

const WHERE = 'KernelTrace';

type EngineHooks = {
  runKernel: (kernelName: string, inputs: Record<string, tf.Tensor>, attrs?: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
  readSync: (dataId: object) => unknown;
  read: (dataId: object) => Promise<unknown>;
};

/** A kernel trace into one graph: see the module comment. */
export class KernelTrace {
  private readonly names = new WeakMap<tf.Tensor, string>();
  /** Data ids of values computed from a bound input: reading them on the host is refused. */
  private readonly dependent = new WeakSet<object>();
  private depth = 0;
  private pausedDepth = 0;
  private recording = false;
  private readingConstant = false;

  /** @param graph the graph the trace adds nodes and initializers to. */
  constructor(readonly graph: OnnxGraph) {}

  /**
   * Gives `tensor` the graph value `name` (a graph input, or a value emitted by hand). `dependsOnInput`
   * (default true) marks it as input data, so host reads of it and of what is computed from it are refused.
   */
  bind(tensor: tf.Tensor, name: string, dependsOnInput = true): void {
    this.names.set(tensor, name);
    if (dependsOnInput) this.dependent.add(tensor.dataId);
  }

  /**
   * The graph value of `tensor`: the one bound or recorded for it, else a new initializer holding its
   * current values (a weight keeps its variable's name).
   */
  nameOf(tensor: tf.Tensor): string {
    const known = this.names.get(tensor);
    if (known !== undefined) return known;
    const name = this.graph.addInitializer(this.valueOf(tensor), this.initializerName(tensor));
    this.names.set(tensor, name);
    return name;
  }

  /** Whether `tensor` was computed (in this trace) from a bound input. */
  dependsOnInput(tensor: tf.Tensor): boolean {
    return this.dependent.has(tensor.dataId);
  }

  private initializerName(tensor: tf.Tensor): string {
    const variableName = tensor instanceof tf.Variable ? tensor.name : undefined;
    return this.graph.uniqueName(variableName === undefined ? 'const' : variableName.replace(/[^A-Za-z0-9_./-]/g, '_'));
  }

  private valueOf(tensor: tf.Tensor): OnnxTensorValue {
    const dtype = onnxDType(tensor.dtype, WHERE);
    this.readingConstant = true;
    try {
      const data = tensor.dataSync();
      if (dtype === 'float32') return { dtype, shape: tensor.shape, data: Float32Array.from(data as Float32Array) };
      if (dtype === 'int32') return { dtype, shape: tensor.shape, data: Int32Array.from(data as Int32Array) };
      return tensorValue('bool', tensor.shape, Array.from(data as Uint8Array));
    } finally {
      this.readingConstant = false;
    }
  }

  /** Runs `fn` without recording its kernels (inside {@link record}); host reads are allowed there. */
  paused<R>(fn: () => R): R {
    this.pausedDepth++;
    try {
      return fn();
    } finally {
      this.pausedDepth--;
    }
  }

  /** Runs `fn`, recording every kernel it runs into the graph; returns what `fn` returns. */
  record<R>(fn: () => R): R {
    if (this.recording) throw new MoEArgumentError(WHERE, 'record', 'no trace already recording', 'a nested record() call');
    const engine = tf.engine() as unknown as EngineHooks;
    const own = { runKernel: Object.hasOwn(engine, 'runKernel'), readSync: Object.hasOwn(engine, 'readSync'), read: Object.hasOwn(engine, 'read') };
    const { runKernel, readSync, read } = engine;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const trace = this;
    engine.runKernel = function (this: EngineHooks, kernelName, inputs, attrs) {
      if (trace.depth > 0 || trace.pausedDepth > 0) return runKernel.call(this, kernelName, inputs, attrs);
      trace.depth++;
      let result: tf.Tensor | tf.Tensor[];
      try {
        result = runKernel.call(this, kernelName, inputs, attrs);
      } finally {
        trace.depth--;
      }
      trace.convert(kernelName, inputs, attrs ?? {}, result);
      return result;
    };
    const refuse = (dataId: object) => {
      if (trace.pausedDepth === 0 && !trace.readingConstant && trace.dependent.has(dataId)) {
        throw new MoEArgumentError(WHERE, 'the traced function', 'no host read of a value computed from the input (a traced graph is static: no data-dependent shape or branch; use the padded layout)', 'a dataSync/data read of one');
      }
    };
    engine.readSync = function (this: EngineHooks, dataId) {
      refuse(dataId);
      return readSync.call(this, dataId);
    };
    engine.read = function (this: EngineHooks, dataId) {
      refuse(dataId);
      return read.call(this, dataId);
    };
    this.recording = true;
    try {
      return fn();
    } finally {
      this.recording = false;
      for (const key of ['runKernel', 'readSync', 'read'] as const) {
        if (own[key]) (engine as Record<string, unknown>)[key] = { runKernel, readSync, read }[key];
        else delete (engine as Partial<EngineHooks>)[key];
      }
    }
  }

  private convert(kernelName: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>, result: tf.Tensor | tf.Tensor[]): void {
    const outputs = Array.isArray(result) ? result : [result];
    const converter = kernelConverter(kernelName);
    if (converter === undefined) throw new MoEArgumentError(WHERE, 'kernel', 'a tfjs kernel with an ONNX converter (see convertibleKernels())', `'${kernelName}'`);
    const inputTensors: Record<string, tf.Tensor> = {};
    const inputNames: Record<string, string> = {};
    let dependent = false;
    for (const [key, tensor] of Object.entries(inputs)) {
      if (tensor === null || tensor === undefined) continue;
      inputTensors[key] = tensor;
      inputNames[key] = this.nameOf(tensor);
      dependent ||= this.dependent.has(tensor.dataId);
    }
    const call: KernelCall = { kernelName, graph: this.graph, inputs: inputNames, inputTensors, attrs, outputs };
    const names = converter(call);
    if (names.length !== outputs.length) throw new MoEArgumentError(WHERE, `converter of '${kernelName}'`, `${outputs.length} output names`, `${names.length}`);
    outputs.forEach((tensor, i) => {
      this.names.set(tensor, names[i]!);
      if (dependent) this.dependent.add(tensor.dataId);
    });
  }
}
