// `npm run test:browser`: the device paths of core and the routers on tfjs's webgl backend, in a real
// Chromium. Debian's /usr/bin/chromium is driven by Playwright (never a downloaded browser); without a
// GPU, WebGL 2 runs on SwiftShader. vitest.browser.setup.ts selects webgl and fails unless it is there.
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';

/**
 * Tests of the selected files that do not run here, by name (matched anywhere in the full name).
 * Everything else in those files runs unchanged on webgl at their cpu tolerances.
 */
const notOnWebgl = [
  // asserts the cpu backend's choice; webgl.browser.test.ts asserts webgl's ('padded')
  "'auto' picks grouped on the cpu backend",
  // training to convergence (hundreds of steps, ~60 s together on SwiftShader): the same kernels as the
  // single training steps and gradient tests that do run here
  'trains: task loss falls',
  'an MoE with a TopKRouter trains with tf.train.adam',
  'trains like the router it wraps',
  'BPR keeps accuracy where batch order loses it',
];
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export default defineConfig({
  resolve: { conditions: ['@moekit/source'] },
  // onnxruntime-web loads its wasm binaries from its own dist folder (ort.env.wasm.wasmPaths): serve it as is
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  test: {
    // core's engine suites (the platform's and the layers' are about node, wasm and files) and every
    // router's, plus the benchmark's webgl timing
    include: ['packages/core/src/*.test.ts', 'packages/core/src/{components,contracts,dispatch,metrics,routers,routing,util}/*.test.ts', 'packages/router-*/src/*.test.ts', 'packages/onnx/src/**/*.browser.test.ts', 'apps/bench/src/*.browser.test.ts'],
    // node-only checks: the page docs/architecture.md on disk (node:fs), and suites of the wasm backend
    exclude: ['packages/core/src/architecture-doc.test.ts', 'packages/core/src/routing/clamp-index.test.ts', '**/*.wasm.test.ts'],
    testNamePattern: new RegExp(`^(?!.*(?:${notOnWebgl.map(escape).join('|')}))`),
    setupFiles: ['./vitest.browser.setup.ts'],
    testTimeout: 60_000,
    // one page for all files: tfjs and its compiled shaders are shared, instead of being rebuilt per file
    // (SwiftShader compiling shaders is most of the run)
    isolate: false,
    fileParallelism: false,
    browser: {
      enabled: true,
      headless: true,
      screenshotFailures: false,
      provider: playwright({
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
        },
      }),
      instances: [{ browser: 'chromium' }],
    },
  },
});
