export { ProtobufWriter } from './proto/protobuf-writer.js';
export { OnnxGraph, ONNX_OPSET, checkTensorValue, tensorValue, type OnnxAttributeValue, type OnnxDType, type OnnxNode, type OnnxTensorValue, type OnnxValueInfo } from './proto/onnx-graph.js';
export { encodeOnnxModel, ONNX_IR_VERSION, type EncodeOnnxOptions } from './proto/encode-onnx-model.js';
