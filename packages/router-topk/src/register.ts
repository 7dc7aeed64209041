// Registers the router, gate and routing-algorithm classes with moekit's component registry (and, through it, tfjs's
// serialisation registry), so models that hold them can be saved and restored (`tf.loadLayersModel`), and a saved
// model that needs them names this package. Imported by index.ts; listed in package.json sideEffects.
import { registerComponent } from '@moekit/core';
import { CosineGate } from './cosine-gate.js';
import { HierarchicalTopKRouter } from './hierarchical-top-k-router.js';
import { KTop1Choice } from './k-top-1.js';
import { SwitchAndMixtureChoice } from './switch-and-mixture-choice.js';
import { TopKChoice } from './top-k-choice.js';
import { TopKRouter } from './top-k-router.js';

const PACKAGE = '@moekit/router-topk';
registerComponent(TopKRouter, PACKAGE);
registerComponent(HierarchicalTopKRouter, PACKAGE);
registerComponent(CosineGate, PACKAGE);
registerComponent(TopKChoice, PACKAGE);
registerComponent(KTop1Choice, PACKAGE);
registerComponent(SwitchAndMixtureChoice, PACKAGE);
