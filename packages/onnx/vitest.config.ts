import { configDefaults, defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@moekit/source'] },
  ssr: { resolve: { conditions: ['@moekit/source'] } },
  test: {
    name: '@moekit/onnx',
    environment: 'node',
    testTimeout: 30_000,
    setupFiles: ['./vitest.setup.ts'],
    // *.browser.test.ts run in Chromium with onnxruntime-web: `npm run test:browser` (vitest.browser.config.ts)
    exclude: [...configDefaults.exclude, '**/*.browser.test.ts'],
  },
});
