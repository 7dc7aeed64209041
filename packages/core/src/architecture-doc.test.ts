// docs/architecture.md shows the smallest complete routing algorithm and expert bank; the files that
// run them mark the code with `// doc:start` / `// doc:end`. The page must show that code verbatim.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const page = readFileSync(new URL('../../../docs/architecture.md', import.meta.url), 'utf8');

describe('docs/architecture.md shows the examples that run', () => {
  for (const example of ['routers/routing-algorithm-example.test.ts', 'contracts/expert-bank-example.test.ts']) {
    it(`${example}: the page shows its code, at most 30 lines`, () => {
      const source = readFileSync(new URL(example, import.meta.url), 'utf8');
      const code = source.slice(source.indexOf('// doc:start\n') + 13, source.indexOf('// doc:end'));
      expect(page).toContain('```ts\n' + code + '```');
      expect(code.trim().split('\n').length).toBeLessThanOrEqual(30);
    });
  }
});
