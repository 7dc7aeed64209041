// Runs in a scratch project where the packages were installed from their npm tarballs.
import { ndmA100v4, recommendLayout } from '@moekit/cost-model';

const rec = recommendLayout({ tokensPerGpu: 4096, modelDim: 2048, hiddenDim: 8192, numExperts: 64, topK: 2, capacityFactor: 1.25 }, ndmA100v4(64));
if (!(rec.best.total > 0) || rec.ranked.length < 3) throw new Error('cost-model packed install is broken');
console.log(`recommendLayout ranked ${rec.ranked.length} layouts; best ${rec.best.label}`);
