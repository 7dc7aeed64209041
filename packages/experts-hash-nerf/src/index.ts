/**
 * `@moekit/experts-hash-nerf`: Instant-NGP's multi-resolution hash encoding, the Switch-NeRF++ hash
 * gate, heterogeneous hash-grid experts, and a small NeRF toolkit.
 *
 * @module @moekit/experts-hash-nerf
 */
import './register.js';

export { HASH_PRIMES, spatialHash } from './spatial-hash.js';
export { hashGridLevels, type HashGridLevel } from './hash-grid-levels.js';
export { HashGridEncoding, checkPoints, resolveHashGridEncodingArgs, type HashGridEncodingArgs, type HashGridEncodingConfig, type HashGridLookup, type HashInterpolation } from './hash-grid-encoding.js';
export type { Vec3 } from './vec3.js';
export { lookAt } from './look-at.js';
export { generateRays, type PinholeCamera, type Rays } from './pinhole-camera.js';
export { stratifiedSamples, type StratifiedSampleOptions } from './stratified-samples.js';
export { rayPoints } from './ray-points.js';
export { volumeRender, type VolumeRenderOptions, type VolumeRenderOutput } from './volume-render.js';
export { psnr } from './psnr.js';
export { Mlp, type MlpArgs } from './mlp.js';
export { HashGate, HASH_GATE_ENCODING_DEFAULTS, type HashGateArgs, type HashGateConfig } from './hash-gate.js';
export { HashGridExperts, RADIANCE_WIDTH, type HashExpertSpec, type HashGridExpertsArgs } from './hash-grid-experts.js';
export { MoENeRF, type MoENeRFArgs, type NeRFRenderOptions, type NeRFRenderOutput, type RadianceFieldOutput } from './moe-nerf.js';
export { SyntheticScene, DEFAULT_SCENE, type ScenePrimitive, type SyntheticSceneArgs, type SceneRenderOptions, type SceneSamples } from './synthetic-scene.js';
export { orbitCameras, type OrbitCameraOptions } from './orbit-cameras.js';
export { encodePng, crc32 } from './encode-png.js';
export { gateDecompositionImage, EXPERT_PALETTE, type DecompositionImage, type DecompositionImageOptions } from './gate-decomposition-image.js';
