import { describe, expect, it } from 'vitest';
import { demoAnomalies } from './demo-anomalies.js';
import { demoReportHtml } from './demo-report-html.js';
import { fixtureDemoResult } from './demo-run-fixture.js';

/** The HTML of the element `<tag id="id">…</tag>` (no nesting of the same tag inside). */
const byId = (html: string, tag: string, id: string) => html.match(new RegExp(`<${tag} id="${id}">([\\s\\S]*?)</${tag}>`))?.[1] ?? '';
/** The legend labels of an SVG chart, in order. */
const legend = (svg: string) => [...svg.matchAll(/<text x="[\d.]+" y="[\d.]+">([^<]+)<\/text>/g)].map((m) => m[1]).filter((t) => /expert|CNN/.test(t!));

describe('the demo report', () => {
  // a run with a dead expert (2), an expert dead at evaluation only (3), 10 % drops in training and at evaluation
  const result = fixtureDemoResult({ trainLoad: [20, 15, 0, 10], testLoad: [60, 30, 0, 0] });
  const html = demoReportHtml(result, result.matrix);

  it('gives the summary as a table with a caption, column headers and one row per model', () => {
    const table = html.match(/<table class="summary">[\s\S]*?<\/table>/)?.[0] ?? '';
    expect(table).toContain('<caption>');
    expect(table.match(/<th scope="col">/g)).toHaveLength(8);
    expect([...table.matchAll(/<th scope="row">([^<]+)<\/th>/g)].map((m) => m[1])).toEqual(['MoE-CNN', 'dense CNN']);
    expect(table).toContain('<th scope="row">MoE-CNN</th><td>0.9000</td><td>1000</td><td>600</td><td>66.7% 33.3% 0.0% 0.0%</td>'); // 60 and 30 of the 90 kept pairs
  });

  it('draws the test curves beside the training ones, on one epoch axis', () => {
    for (const id of ['loss-curves', 'accuracy-curves']) {
      const svg = byId(html, 'figure', id);
      expect(legend(svg)).toEqual(['MoE-CNN training', 'MoE-CNN test', 'dense CNN training', 'dense CNN test']);
      expect(svg.match(/<polyline class="series"[^>]*stroke-dasharray="5 3"/g)).toHaveLength(2); // the test lines are dashed
      expect(svg.match(/<circle /g)).toHaveLength(4); // a dot per model and epoch
      expect(svg).toContain('>epoch</text>');
    }
  });

  it('puts the evaluation load beside the training load', () => {
    const pair = html.match(/<div class="pair"><figure id="training-load">[\s\S]*?<\/div>/)?.[0] ?? '';
    expect(legend(byId(pair, 'figure', 'training-load'))).toEqual(['expert 0', 'expert 1', 'expert 2', 'expert 3']);
    const evaluation = byId(pair, 'figure', 'evaluation-load');
    expect(legend(evaluation)).toEqual(['expert 0', 'expert 1', 'expert 2', 'expert 3']);
    expect(evaluation).toContain("Evaluation: each expert's share");
    // one epoch axis [0, 2] for both: plot 440 − 56 − 150 = 234 px from x = 56, so epoch 1 is at 56 + 117 = 173 and the training's first step (epoch 0.5) at 114.5
    expect(evaluation).toMatch(/<polyline class="series"[^>]*points="173\.0,/);
    expect(byId(pair, 'figure', 'training-load')).toMatch(/<polyline class="series"[^>]*points="114\.5,/);
  });

  it('says each anomaly in one sentence', () => {
    const items = [...(html.match(/<ul class="anomalies">([\s\S]*?)<\/ul>/)?.[1] ?? '').matchAll(/<li>([^<]+)<\/li>/g)].map((m) => m[1]);
    expect(items).toEqual(demoAnomalies(result).map((s) => s.replace(/&/g, '&amp;')));
    expect(items).toHaveLength(4);
    expect(items[0]).toMatch(/^Expert 2 took none of the test images and no training image/);
    expect(items[2]).toMatch(/^Training dropped 10\.0 % of the \(image, expert\) pairs \(20 of 200\)/);
    expect(items[3]).toMatch(/^Evaluation dropped 10\.0 % of the test \(image, expert\) pairs \(10 of 100\)/);
    const healthy = fixtureDemoResult({ trainLoad: [13, 12, 13, 12], testLoad: [25, 25, 25, 25] });
    const clean = demoReportHtml(healthy, healthy.matrix);
    expect(clean).not.toContain('<ul class="anomalies">');
    expect(clean).toContain('<p class="no-anomaly">No anomaly: every expert took training and test images, and drops stayed at or below 1 % of the pairs.</p>');
  });

  it('is one self-contained file: nothing to fetch, nothing to run', () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|href=|url\(|@import/);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toContain('http');
    expect(html.match(/<svg /g)).toHaveLength(5); // loss, accuracy, training load, evaluation load, expert × class
  });
});
