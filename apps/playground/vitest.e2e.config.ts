import { defineConfig } from 'vitest/config';

// `npm run test:playground`: the built page (dist/) in Debian's Chromium, driven by Playwright. Kept out
// of the workspace's unit run (vitest.config.ts) because it needs the build and a browser.
export default defineConfig({
  test: {
    name: '@moekit/playground:e2e',
    root: import.meta.dirname,
    include: ['e2e/*.e2e.ts'],
    environment: 'node',
    testTimeout: 150_000,
    hookTimeout: 60_000,
  },
});
