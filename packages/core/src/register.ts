// Registers core's components, so saved models that hold them load. Imported by index.ts; listed in
// package.json sideEffects.
import { registerComponent } from './components/component-registry.js';
import { GatedRouter } from './routers/gated-router.js';
import { LinearGate } from './routers/linear-gate.js';

registerComponent(GatedRouter, '@moekit/core');
registerComponent(LinearGate, '@moekit/core');
