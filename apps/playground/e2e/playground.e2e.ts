// The playground in a real browser: Debian's /usr/bin/chromium (never a downloaded one) on the built
// page. It must load without a console error, lower the loss in a short MoE run, update the load plot,
// train the dense baseline, and leave a screenshot in artifacts/ for CI to keep.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error the server is plain JavaScript, run by node directly
import { startServer } from '../scripts/serve.mjs';

const appDir = join(import.meta.dirname, '..');
const dist = join(appDir, 'dist');
const artifacts = join(appDir, 'artifacts');
const STEPS = 20; // SwiftShader compiles each kernel on first use: most of the run

let server: Server;
let url: string;
let browser: Browser;
let page: Page;
const problems: string[] = [];

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
// A click through the page's own event: Playwright's click waits for the page to acknowledge input, and
// the page's main thread is busy for seconds at a time while SwiftShader compiles the first kernels.
const click = async (selector: string): Promise<void> => {
  await page.waitForSelector(`${selector}:enabled`, { timeout: 10_000 });
  await page.locator(selector).dispatchEvent('click');
};
const data = async (selector: string, key: string): Promise<string> => (await page.locator(selector).getAttribute(`data-${key}`)) ?? '';

beforeAll(async () => {
  if (!existsSync(join(dist, 'index.html'))) throw new Error(`no build in ${dist}: run \`npm run test:playground\` (it builds first)`);
  ({ server, url } = await startServer(dist, 0));
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'] });
  page = await browser.newPage({ viewport: { width: 1150, height: 760 } });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
});

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => (server ? server.close(done) : done(undefined)));
});

describe('the playground in Chromium', () => {
  it('loads with no console error, on a GPU backend where there is one', async () => {
    await page.goto(`${url}?steps=${STEPS}`);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
    const status = await page.locator('#status').textContent();
    expect(status).toMatch(/^Ready: 2000 training images on (webgl|webgpu|wasm|cpu)/);
    expect(await page.locator('#router option').count()).toBe(7);
    expect(problems).toEqual([]);
  });

  it(`trains the MoE ${STEPS} steps: the loss falls and the load plot updates every step`, async () => {
    await click('#train-moe');
    await page.waitForSelector('body[data-state="done"]', { timeout: 120_000 });
    const losses = JSON.parse(await data('#loss-plot', 'losses')) as number[];
    expect(losses).toHaveLength(STEPS);
    expect(mean(losses.slice(-5))).toBeLessThan(0.8 * mean(losses.slice(0, 5)));
    expect(Number(await data('#load-plot', 'updates'))).toBe(STEPS);
    const load = JSON.parse(await data('#load-plot', 'load')) as number[];
    expect(load).toHaveLength(8); // E = 8 by default
    expect(load.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(await page.locator('#status').textContent()).toMatch(new RegExp(`step ${STEPS}/${STEPS}, loss [0-9.]+, test accuracy [0-9.]+ %`));
    expect(problems).toEqual([]);
  });

  it('trains the dense model of equal active compute beside it, and keeps a screenshot', async () => {
    await click('#train-dense');
    await page.waitForSelector('body[data-state="training"]', { timeout: 30_000 });
    await page.waitForSelector('body[data-state="done"]', { timeout: 120_000 });
    expect(JSON.parse(await data('#loss-plot', 'dense-losses'))).toHaveLength(STEPS);
    expect(await page.locator('#status').textContent()).toMatch(new RegExp(`^dense 64 hidden: step ${STEPS}/${STEPS}`)); // K·H = 2 · 32
    mkdirSync(artifacts, { recursive: true });
    const file = join(artifacts, 'playground.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(10_000);
    expect(problems).toEqual([]);
  });
});
