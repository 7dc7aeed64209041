/**
 * `@moekit/router-switch`: the Switch Transformer top-1 router — input jitter, capacity factors,
 * load-balancing loss, ST-MoE's router z-loss, and position or random drop policies.
 *
 * @packageDocumentation
 */
import './register.js';

export { SwitchRouter, switchRouter, type SwitchRouterArgs, type DropPolicy, type JitterTarget, type SwitchRouterConfig } from './switch-router.js';
