// Registers this package's routing algorithms, gates and routers with moekit's component registry
// (and tfjs's). Imported by index.ts; listed in package.json sideEffects.
import { registerComponent } from '@moekit/core';
import { BalancedAssignment } from './balanced-assignment.js';
import { ExpertChoice } from './expert-choice.js';
import { HashRouter } from './hash-router.js';
import { SoftMoE } from './soft-moe.js';
import { SoftMoEGate } from './soft-moe-gate.js';

for (const cls of [ExpertChoice, SoftMoE, SoftMoEGate, BalancedAssignment, HashRouter]) registerComponent(cls, '@moekit/router-balanced');
