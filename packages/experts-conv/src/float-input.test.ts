import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConvExperts } from './conv-experts.js';
import { ConvGate } from './conv-gate.js';
import { GapGate } from './gap-gate.js';
import { ImageRouter } from './image-router.js';
import { MoEConv2D } from './moe-conv2d.js';

// tfjs's conv2d takes float32 only; an int32 image reached it and failed with "Argument 'x' passed to
// 'conv2d' must be float32 tensor", naming no moekit argument. Every convolving entry point checks first.
describe('image inputs of the conv components are float32 (a named error otherwise)', () => {
  const ints = tf.ones([2, 1, 4, 4, 3], 'int32');
  const images = tf.ones([2, 4, 4, 3], 'int32');

  it('ConvExperts.apply and applyGrouped', () => {
    const bank = new ConvExperts({ numExperts: 2, inputChannels: 3, width: 4, seed: 1 });
    expect(() => bank.apply(ints, { training: false })).toThrow("ConvExperts.apply: argument 'dispatched' expected dtype float32, got dtype int32");
    expect(() => bank.applyGrouped(images, [1, 1], { training: false })).toThrow("ConvExperts.applyGrouped: argument 'rows' expected dtype float32, got dtype int32");
    bank.dispose();
  });

  it('ConvGate.apply, ImageRouter.route and MoEConv2D.apply', () => {
    const gate = new ConvGate({ inputChannels: 3, filters: 2, seed: 1 });
    expect(() => gate.apply(images)).toThrow("ConvGate.apply: argument 'images' expected dtype float32, got dtype int32");
    const router = new ImageRouter({ numExperts: 2, gate: new GapGate(), gateDim: 3, seed: 2 });
    expect(() => router.route(images)).toThrow("ImageRouter.route: argument 'images' expected dtype float32, got dtype int32");
    const conv = new MoEConv2D({ numExperts: 2, inputChannels: 3, expertChannels: 1, seed: 3 });
    const floats = tf.ones([2, 4, 4, 3]);
    const selection = router.route(floats);
    expect(() => conv.apply(images, selection)).toThrow("MoEConv2D.apply: argument 'x' expected dtype float32, got dtype int32");
    tf.dispose([floats, selection.scores, selection.expertIndex, selection.weights]);
    gate.dispose();
    router.dispose();
    conv.dispose();
  });
});
