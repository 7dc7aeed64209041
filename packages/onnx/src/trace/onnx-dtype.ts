/** tfjs dtypes to ONNX element types and `Cast` targets. */
import type * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '@moekit/core';
import type { OnnxDType } from '../proto/onnx-graph.js';

/** `TensorProto.DataType` numbers, for `Cast`'s `to` attribute. */
export const ONNX_DATA_TYPE: Record<OnnxDType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };

/** The ONNX element type of a tfjs dtype (float32, int32, bool; tfjs has no int64). */
export function onnxDType(dtype: tf.DataType, where: string): OnnxDType {
  if (dtype === 'float32' || dtype === 'int32' || dtype === 'bool') return dtype;
  throw new MoEArgumentError(where, 'dtype', "'float32', 'int32' or 'bool' (ONNX export)", `'${dtype}'`);
}
