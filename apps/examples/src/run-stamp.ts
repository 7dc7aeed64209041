/** The run's date and machine, as every reproduction section records them. */
import * as tf from '@tensorflow/tfjs';
import { cpus } from 'node:os';

/** `date: …; machine: N cores (model), backend …` for a reproduction's section. */
export function runStamp(): string {
  const cores = cpus();
  return `date ${new Date().toISOString()}; machine: ${cores.length} cores (${cores[0]?.model ?? 'unknown CPU'}), backend ${tf.getBackend()}`;
}
