// Registers the test components, so models holding them save and load. Imported by testing/index.ts;
// listed in package.json sideEffects.
import { registerComponent } from '../components/component-registry.js';
import { LinearExpertBank } from './linear-expert-bank.js';
import { LinearTopKRouter } from './linear-top-k-router.js';

registerComponent(LinearTopKRouter, '@moekit/core/testing');
registerComponent(LinearExpertBank, '@moekit/core/testing');
