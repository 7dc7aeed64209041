/**
 * `@moekit/experts-hash-nerf`: Instant-NGP's multi-resolution hash encoding, the Switch-NeRF++ hash
 * gate, heterogeneous hash-grid experts, and a small NeRF toolkit.
 *
 * @packageDocumentation
 */
export { HASH_PRIMES, spatialHash } from './spatial-hash.js';
export { hashGridLevels, type HashGridLevel } from './hash-grid-levels.js';
export { HashGridEncoding, checkPoints, resolveHashGridEncodingArgs, type HashGridEncodingArgs, type HashGridEncodingConfig, type HashGridLookup } from './hash-grid-encoding.js';
export type { Vec3 } from './vec3.js';
export { lookAt } from './look-at.js';
export { generateRays, type PinholeCamera, type Rays } from './pinhole-camera.js';
export { stratifiedSamples, type StratifiedSampleOptions } from './stratified-samples.js';
export { rayPoints } from './ray-points.js';
export { volumeRender, type VolumeRenderOptions, type VolumeRenderOutput } from './volume-render.js';
export { psnr } from './psnr.js';
