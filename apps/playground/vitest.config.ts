import { defineProject } from 'vitest/config';

// The playground's unit tests, in Node on tfjs's cpu backend: the MNIST asset, every router's model,
// the dense baseline, the expert × class matrix. The browser test is vitest.e2e.config.ts.
export default defineProject({
  resolve: { conditions: ['@moekit/source'] },
  ssr: { resolve: { conditions: ['@moekit/source'] } },
  test: {
    name: '@moekit/playground',
    environment: 'node',
    include: ['src/**/*.test.ts', 'vite/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
