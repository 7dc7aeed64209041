// Registers the components with moekit's component registry (and tfjs's serialisation registry), so models
// holding them can be saved and restored, and the conv training kernels the wasm backend lacks.
// Imported by index.ts; listed in package.json sideEffects.
import { registerComponent } from '@moekit/core';
import { ConvExperts } from './conv-experts.js';
import { ConvGate } from './conv-gate.js';
import { GapGate } from './gap-gate.js';
import { HardConstraintRouter } from './hard-constraint-router.js';
import { ImageRouter } from './image-router.js';
import { registerConvKernels } from './kernels/register-conv-kernels.js';
import { MoEConv2D } from './moe-conv2d.js';
import { SoftConstraintRouter } from './soft-constraint-router.js';
import { SpatialGate } from './spatial-gate.js';
import { SpatialMoE } from './spatial-moe.js';

for (const cls of [ConvExperts, GapGate, ConvGate, ImageRouter, MoEConv2D, HardConstraintRouter, SoftConstraintRouter, SpatialGate, SpatialMoE]) registerComponent(cls, '@moekit/experts-conv');
registerConvKernels();
