import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run as ladder } from './09-advmoe.js';
import { run as reproduce } from './reproductions/advmoe.js';

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('AdvMoE examples (quick)', () => {
  it('the ladder example trains and prints clean and robust accuracy and the router robustness', async () => {
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    try {
      await ladder({ quick: true });
    } finally {
      log.mockRestore();
    }
    expect(lines.at(-1)).toMatch(/clean accuracy 0\.\d{3}, robust accuracy \(PGD-10, ε = 0\.1\) 0\.\d{3}, expert choice changed by the attack on \d+\.\d% of images/);
  });

  it('the reproduction returns a markdown section with all four trainings, the MoEs\' routing health and a verdict', async () => {
    const markdown = await reproduce({ quick: true });
    expect(markdown).toContain('## AdvMoE vs standard adversarial training');
    // four trainings: clean and robust accuracy as mean ± sd over the seeds
    expect(markdown.match(/^\| \([a-d]\) .* \| \d\.\d{3} ± \d\.\d{3} \| \d\.\d{3} ± \d\.\d{3} \| /gm)).toHaveLength(4);
    // three MoE models: shares of 4 experts, load CV, dead experts
    expect(markdown.match(/^\| \([a-c]\) \| (\d\.\d\d ){3}\d\.\d\d \| \d\.\d\d ± \d\.\d\d \| \d\.\d \| /gm)).toHaveLength(3);
    expect(markdown).toMatch(/Verdict: (holds|does not (fully )?hold) at this scale\. .* Here: \(b\) − \(a\) = .* \(b\) − \(d\) = /);
  });
});
