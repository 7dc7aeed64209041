export { ProtobufWriter } from './proto/protobuf-writer.js';
export { OnnxGraph, ONNX_OPSET, checkTensorValue, tensorValue, type OnnxAttributeValue, type OnnxDType, type OnnxNode, type OnnxTensorValue, type OnnxValueInfo } from './proto/onnx-graph.js';
export { encodeOnnxModel, ONNX_IR_VERSION, type EncodeOnnxOptions } from './proto/encode-onnx-model.js';
export { KernelTrace } from './trace/kernel-trace.js';
export { convertibleKernels, kernelConverter, registerKernelConverter, type KernelCall, type KernelConverter } from './trace/kernel-converter.js';
export { ONNX_DATA_TYPE, onnxDType } from './trace/onnx-dtype.js';
