// Registers BatchPriorityRouter with moekit's component registry (and tfjs's). Imported by index.ts; listed in package.json sideEffects.
import { registerComponent } from '@moekit/core';
import { BatchPriorityRouter } from './batch-priority-router.js';

registerComponent(BatchPriorityRouter, '@moekit/router-batch-priority');
