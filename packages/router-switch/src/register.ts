// Registers SwitchRouter with moekit's component registry (and tfjs's). Imported by index.ts; listed in package.json sideEffects.
import { registerComponent } from '@moekit/core';
import { SwitchRouter } from './switch-router.js';

registerComponent(SwitchRouter, '@moekit/router-switch');
