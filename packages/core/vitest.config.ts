import { configDefaults, defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@moekit/source'] },
  ssr: { resolve: { conditions: ['@moekit/source'] } },
  test: {
    name: '@moekit/core',
    environment: 'node',
    // *.browser.test.ts run in Chromium on webgl: `npm run test:browser` (vitest.browser.config.ts)
    exclude: [...configDefaults.exclude, '**/*.browser.test.ts'],
    testTimeout: 30_000,
    setupFiles: ['./vitest.setup.ts'],
  },
});
