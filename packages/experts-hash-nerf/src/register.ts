// Registers the hash-grid components with moekit's component registry (and tfjs's serialisation registry). Imported by index.ts; listed in package.json sideEffects.
import { registerComponent } from '@moekit/core';
import { HashGate } from './hash-gate.js';
import { HashGridEncoding } from './hash-grid-encoding.js';
import { HashGridExperts } from './hash-grid-experts.js';
import { Mlp } from './mlp.js';

registerComponent(HashGridEncoding, '@moekit/experts-hash-nerf');
registerComponent(Mlp, '@moekit/experts-hash-nerf');
registerComponent(HashGate, '@moekit/experts-hash-nerf');
registerComponent(HashGridExperts, '@moekit/experts-hash-nerf');
