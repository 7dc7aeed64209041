// Runs in a scratch project where the packages were installed from their npm tarballs.
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { LinearTopKRouter } from '@moekit/core/testing';
import { ConvExperts, GapGate, HardConstraintRouter, ImageRouter, MoEConv2D, expertClassStatistics } from '@moekit/experts-conv';

await tf.setBackend('cpu');
const experts = new ConvExperts({ numExperts: 2, inputChannels: 3, width: 2 });
const router = new HardConstraintRouter({ router: new LinearTopKRouter({ inputDim: 3, numExperts: 2, k: 1 }) });
const moe = new MixtureOfExperts({ router, experts, layout: 'grouped' });
const images = tf.randomNormal([4, 6, 6, 3]);
const { output } = moe.apply(images, { training: true, gateInput: new GapGate().apply(images) });
const imageRouter = new ImageRouter({ numExperts: 2, gate: new GapGate(), gateDim: 3 });
const conv = new MoEConv2D({ numExperts: 2, inputChannels: 3, expertChannels: 5 });
const y = conv.apply(images, imageRouter.route(images));
const registered = tf.serialization.SerializationMap.getMap().classNameMap;
if (output.shape.join() !== '4,6,6,3' || y.shape.join() !== '4,6,6,5' || !registered.ConvExperts || expertClassStatistics([[1, 0], [0, 1]]).mutualInformation !== 1) {
  throw new Error('experts-conv packed install is broken');
}
console.log('ConvExperts routed 4 images; MoEConv2D kept one channel group per image; ConvExperts registered');
