/**
 * `@moekit/layers`: the tfjs-layers adapter of moekit — {@link MoELayer} (an MoE in `tf.sequential()`
 * and `tf.model()`, trained by `model.fit`, saved and loaded with the model) and the routing-health
 * callback. Import it only if you use tfjs-layers: `@moekit/core` and the routers never load it.
 *
 * @packageDocumentation
 */
import './register.js';

export { MoELayer, type MoELayerArgs } from './moe-layer.js';
export { LayersModelExperts, LAYERS_MODEL_EXPERTS_FORMAT, type LayersModelExpertsArgs, type SavedExpertTopology } from './layers-model-experts.js';
export { RoutingHealthCallback, routingHealthCallback, describeHealth, type RoutingHealthCallbackArgs, type EpochRoutingHealth, type LayerRoutingHealth } from './routing-health-callback.js';
