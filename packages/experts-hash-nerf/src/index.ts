/**
 * `@moekit/experts-hash-nerf`: Instant-NGP's multi-resolution hash encoding, the Switch-NeRF++ hash
 * gate, heterogeneous hash-grid experts, and a small NeRF toolkit.
 *
 * @packageDocumentation
 */
export { HASH_PRIMES, spatialHash } from './spatial-hash.js';
export { hashGridLevels, type HashGridLevel } from './hash-grid-levels.js';
export { HashGridEncoding, checkPoints, resolveHashGridEncodingArgs, type HashGridEncodingArgs, type HashGridEncodingConfig, type HashGridLookup } from './hash-grid-encoding.js';
