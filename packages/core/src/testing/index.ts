/**
 * Test helpers for code built on moekit: tensor comparison, leak checks, a fixed router, a linear
 * expert bank and a minimal trainable router.
 *
 * @module @moekit/core/testing
 */
import './register.js';

export { expectTensorsClose, type CloseOptions, type NestedNumbers } from './expect-tensors-close.js';
export { expectNoLeakedTensors } from './expect-no-leaked-tensors.js';
export { countHostReads, type HostReadCount } from './count-host-reads.js';
export { FixedRouter, type FixedRouterArgs } from './fixed-router.js';
export { LinearExpertBank, type LinearExpertBankArgs } from './linear-expert-bank.js';
export { LinearTopKRouter, type LinearTopKRouterArgs } from './linear-top-k-router.js';
export { trainOnClusters, type TrainOnClustersOptions, type ClustersTrainingReport, type FirstAndLast } from './train-on-clusters.js';
