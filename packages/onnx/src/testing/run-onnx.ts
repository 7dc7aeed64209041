/**
 * Test helper: runs ONNX model bytes in onnxruntime-node (CPU) and returns each output as plain data.
 */
import * as ort from 'onnxruntime-node';

/** One output of a run: its shape and values (float32/int32/bool as numbers, int64 as numbers). */
export interface RunOutput {
  /** Dimensions. */
  dims: number[];
  /** Values, row-major. */
  data: number[];
}

/** Runs the model on `feeds` (name → typed array and shape), returns every output by name. */
export async function runOnnx(model: Uint8Array, feeds: Record<string, { data: Float32Array | Int32Array | BigInt64Array | Uint8Array; dims: number[]; type?: 'float32' | 'int32' | 'int64' | 'bool' }>, options: ort.InferenceSession.SessionOptions = {}): Promise<Record<string, RunOutput>> {
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', logSeverityLevel: 3, ...options });
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) {
      const type = feed.type ?? (feed.data instanceof Float32Array ? 'float32' : feed.data instanceof Int32Array ? 'int32' : feed.data instanceof BigInt64Array ? 'int64' : 'bool');
      inputs[name] = new ort.Tensor(type, feed.data, feed.dims);
    }
    const results = await session.run(inputs);
    const out: Record<string, RunOutput> = {};
    for (const [name, tensor] of Object.entries(results)) {
      const data = tensor.data as ArrayLike<number | bigint | boolean>;
      out[name] = { dims: [...tensor.dims], data: Array.from(data, (v) => Number(v)) };
      tensor.dispose();
    }
    return out;
  } finally {
    await session.release();
  }
}
