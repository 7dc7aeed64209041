import { defineProject } from 'vitest/config';

// Checks of the repository as a whole (the architecture's import rules), beside the packages' own suites.
export default defineProject({
  // the README examples (readme-examples.test.ts) import the packages as a user does, from their sources
  resolve: { conditions: ['@moekit/source'] },
  ssr: { resolve: { conditions: ['@moekit/source'] } },
  test: {
    name: 'repo',
    environment: 'node',
    include: ['*.test.ts'],
  },
});
