// Registers the serialisable classes, so models holding them can be saved and restored, and the conv
// training kernels the wasm backend lacks. Imported by index.ts; listed in package.json sideEffects.
import { registerComponent } from '@moekit/core';
import { ConvExperts } from './conv-experts.js';
import { registerConvKernels } from './kernels/register-conv-kernels.js';

registerComponent(ConvExperts, '@moekit/experts-conv');
registerConvKernels();
