/**
 * `@moekit/router-batch-priority`: V-MoE's Batch Priority Routing over any top-k router, and the
 * test-time capacity sweep.
 *
 * @packageDocumentation
 */
import './register.js';

export { BatchPriorityRouter, batchPriorityRouter, type BatchPriorityRouterArgs } from './batch-priority-router.js';
export { capacitySweep, type CapacitySweepModel, type CapacitySweepOptions, type CapacitySweepPoint, type SweepResult, type SweepData } from './capacity-sweep.js';
