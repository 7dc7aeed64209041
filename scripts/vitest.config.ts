import { defineProject } from 'vitest/config';

// Checks of the repository as a whole (the architecture's import rules), beside the packages' own suites.
export default defineProject({
  test: {
    name: 'repo',
    environment: 'node',
    include: ['*.test.ts'],
  },
});
