/** A 3-vector `[x, y, z]`. */
export type Vec3 = [number, number, number];
