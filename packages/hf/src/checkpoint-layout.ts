// How one moekit variable maps onto checkpoint tensors, and the checked export and import every
// layout (Mixtral, Switch Transformers) shares. Internal: the layouts export the public functions.
import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '@moekit/core';

/**
 * One moekit variable and the checkpoint tensors it becomes. PyTorch's `nn.Linear(in, out)` stores
 * its weight as `[out, in]` and computes `x · Wᵀ`, moekit stores kernels as `[in, out]` and computes
 * `x · W`: every tensor is the transpose of the variable (or of one expert's slice of it).
 */
export interface LayoutVariable {
  /** The moekit path (`experts/w1`), for messages. */
  path: string;
  /** The variable: `[in, out]`, or `[E, in, out]` when `perExpert`. */
  variable: tf.Variable;
  /** The checkpoint names: one, or one per expert (`E`) when `perExpert`. */
  names: string[];
  /** Whether the variable stacks one `[in, out]` kernel per expert. */
  perExpert: boolean;
}

/** The checkpoint shape of one of `entry`'s tensors: the transposed kernel, `[out, in]`. */
export function checkpointShape(entry: LayoutVariable): number[] {
  const shape = entry.variable.shape;
  const [rows, cols] = entry.perExpert ? [shape[1]!, shape[2]!] : [shape[0]!, shape[1]!];
  return [cols, rows];
}

/** The tensors of `entries` by checkpoint name, transposed copies the caller owns. */
export function exportLayout(entries: readonly LayoutVariable[]): Map<string, tf.Tensor> {
  const tensors = new Map<string, tf.Tensor>();
  const values = tf.tidy(() =>
    entries.flatMap((entry) => {
      if (!entry.perExpert) return [tf.transpose(entry.variable)]; // [in, out] → [out, in]
      return tf.unstack(entry.variable).map((kernel) => tf.transpose(kernel)); // E × [in, out] → E × [out, in]
    }),
  );
  let at = 0;
  for (const entry of entries) for (const name of entry.names) tensors.set(name, values[at++]!);
  return tensors;
}

/**
 * Checks `tensors` against `entries` — every expected name present, float32, with its exact shape; no
 * other name under `prefix` — and only then assigns every variable (so a failed load assigns
 * nothing). Creates no tensor that outlives the call; does not dispose `tensors`.
 */
export function importLayout(where: string, layout: string, entries: readonly LayoutVariable[], tensors: ReadonlyMap<string, tf.Tensor>, prefix: string): void {
  if (!(tensors instanceof Map)) throw new MoEArgumentError(where, 'tensors', 'a Map of checkpoint names to tensors', String(tensors));
  const expected = new Set<string>();
  for (const entry of entries) {
    const shape = checkpointShape(entry);
    entry.names.forEach((name, i) => {
      expected.add(name);
      const tensor = tensors.get(name);
      const what = `${entry.path}${entry.perExpert ? ` of expert ${i}` : ''}, transposed`;
      if (tensor === undefined) throw new MoEArgumentError(where, `tensors['${name}']`, `a tensor of shape [${shape.join(', ')}] (${what})`, 'no such tensor');
      if (!(tensor instanceof tf.Tensor) || tensor.isDisposed) throw new MoEArgumentError(where, `tensors['${name}']`, 'a live tf.Tensor', tensor instanceof tf.Tensor ? 'a disposed tensor' : String(tensor));
      if (tensor.dtype !== 'float32') throw new MoEArgumentError(where, `tensors['${name}']`, 'a float32 tensor', `dtype ${tensor.dtype}`);
      if (tensor.rank !== shape.length || (tensor.shape as number[]).some((d: number, j: number) => d !== shape[j])) {
        throw new MoEArgumentError(where, `tensors['${name}']`, `shape [${shape.join(', ')}] (${what})`, `shape [${tensor.shape.join(', ')}]`);
      }
    });
  }
  for (const [name, tensor] of tensors) {
    if (name.startsWith(prefix) && !expected.has(name)) {
      const shape = tensor instanceof tf.Tensor ? `a tensor of shape [${tensor.shape.join(', ')}]` : String(tensor);
      throw new MoEArgumentError(where, `tensors['${name}']`, `only the ${expected.size} tensors of the ${layout} layout under '${prefix}'`, `${shape} the layout does not have`);
    }
  }
  tf.tidy(() => {
    for (const entry of entries) {
      const values = entry.names.map((name) => tf.transpose(tensors.get(name)!)); // [out, in] → [in, out]
      entry.variable.assign(entry.perExpert ? tf.stack(values) : values[0]!); // [E, in, out] or [in, out]
    }
  });
}

/** The width `D` of the gate tensor `name` (`[E, D]`), to build an MoE before loading into it; an error naming the tensor when it is missing or not `[E, ·]`. */
export function gateInputWidth(where: string, tensors: ReadonlyMap<string, tf.Tensor>, name: string, numExperts: number): number {
  const gate = tensors instanceof Map ? tensors.get(name) : undefined;
  if (!(gate instanceof tf.Tensor) || gate.rank !== 2 || gate.shape[0] !== numExperts) {
    throw new MoEArgumentError(where, `tensors['${name}']`, `a tensor of shape [${numExperts}, D] (the router's weight, from which an unbuilt MoE is built)`, gate instanceof tf.Tensor ? `shape [${gate.shape.join(', ')}]` : 'no such tensor');
  }
  return gate.shape[1]!;
}

/** A component's class name for messages. */
export function componentName(component: unknown): string {
  const named = component as { getClassName?: () => string; constructor?: { name?: string } } | undefined;
  return named?.getClassName?.() ?? named?.constructor?.name ?? String(component);
}
