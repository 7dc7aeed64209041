import * as tf from '@tensorflow/tfjs-core';

/** The members of tfjs-backend-wasm's backend the guard patches and reads. @internal */
interface GuardedWasmBackend {
  write(values: tf.backend_util.BackendValues | null, shape: number[], dtype: tf.DataType): object;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  disposeData(dataId: object, force?: boolean): boolean;
  wasm: { HEAPU8: Uint8Array };
  moekitHeapGuard?: true;
}

/** The wasm32 heap's ceiling: tfjs's wasm build grows its memory to at most 4 GiB. */
const MAX_HEAP_BYTES = 2 ** 32;

/**
 * Makes an allocation the wasm heap cannot hold an error instead of a silent wrong answer. tfjs 4.22's
 * wasm backend never checks `malloc`: past the heap's 4 GiB it records the tensor at address 0 (and
 * copies its values there), so later kernels read and write other tensors' memory, and the failure
 * surfaces, if at all, as "memory access out of bounds" far from its cause (measured here: the sixth
 * 800 MB tensor got offset 0). This patches the backend's `write` so every allocation is checked
 * before any byte is copied. Idempotent. @internal
 */
export function guardWasmHeap(backend: unknown): void {
  const b = backend as GuardedWasmBackend;
  if (b.moekitHeapGuard || typeof b.write !== 'function') return;
  const write = b.write.bind(b);
  b.write = (values, shape, dtype) => {
    if (dtype === 'string') return write(values, shape, dtype);
    const bytes = tf.util.sizeFromShape(shape) * tf.util.bytesPerElement(dtype);
    const fail = (why: string) =>
      new Error(`wasm heap exhausted: cannot allocate ${bytes} bytes for a [${shape.join(', ')}] ${dtype} tensor (${why}; the heap holds ${b.wasm.HEAPU8.length} bytes, can grow to 4 GiB and never shrinks). Free tensors, use smaller batches, or avoid dense [T, E·C] dispatch tensors.`);
    if (bytes >= MAX_HEAP_BYTES) throw fail('larger than the 4 GiB wasm32 address space');
    const dataId = write(null, shape, dtype); // allocate only
    const offset = b.dataIdMap.get(dataId)?.memoryOffset ?? 0;
    if (bytes > 0 && (offset === 0 || offset + bytes > b.wasm.HEAPU8.length)) {
      b.disposeData(dataId, true);
      throw fail('malloc returned no memory');
    }
    if (values != null && bytes > 0) {
      const view = values as ArrayBufferView;
      b.wasm.HEAPU8.set(new Uint8Array(view.buffer, view.byteOffset, bytes), offset);
    }
    return dataId;
  };
  b.moekitHeapGuard = true;
}

/** Marks a wasm factory entry whose backends {@link guardWasmBackend} already guards. */
const hooked = new WeakSet<object>();

/**
 * Guards the wasm backend however it was started: the instance tfjs already holds (a plain
 * `tf.setBackend('wasm')`) now, and every instance tfjs creates later from the registered `wasm` factory
 * (the factory is wrapped in place, so `removeBackend` + `registerBackend` of the same factory keeps the
 * hook). Does nothing when `@tensorflow/tfjs-backend-wasm` is not imported. Idempotent. @internal
 */
export function guardWasmBackend(): void {
  const engine = tf.engine();
  const instance = engine.registry['wasm'];
  if (instance !== undefined) guardWasmHeap(instance);
  const entry = engine.registryFactory['wasm'];
  if (entry === undefined || hooked.has(entry.factory)) return;
  const factory = entry.factory;
  const guarded = (): tf.KernelBackend | Promise<tf.KernelBackend> => {
    const made = factory();
    if (made instanceof Promise) {
      return made.then((backend) => {
        guardWasmHeap(backend);
        return backend;
      });
    }
    guardWasmHeap(made);
    return made;
  };
  hooked.add(guarded);
  entry.factory = guarded;
}

/**
 * A wasm kernel that guards the backend it runs on before its first run (the guard is idempotent, so
 * later runs cost one property read): moekit on a wasm backend never allocates unguarded after its first
 * kernel, whoever created the backend. @internal
 */
export function withWasmHeapGuard(config: tf.KernelConfig): tf.KernelConfig {
  if (config.backendName !== 'wasm') return config;
  const kernelFunc = config.kernelFunc;
  return {
    ...config,
    kernelFunc: (args) => {
      guardWasmHeap(args.backend);
      return kernelFunc(args);
    },
  };
}
