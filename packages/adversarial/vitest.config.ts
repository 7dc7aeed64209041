import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@moekit/source'] },
  ssr: { resolve: { conditions: ['@moekit/source'] } },
  test: {
    name: '@moekit/adversarial',
    environment: 'node',
    testTimeout: 120_000,
    setupFiles: ['./vitest.setup.ts'],
  },
});
