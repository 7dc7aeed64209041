import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DemoOptionsError } from './demo-options.js';
import { checkReportPath } from './report-path.js';

const root = mkdtempSync(join(tmpdir(), 'moekit-report-path-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('checkReportPath', () => {
  it('accepts a new file in an existing folder and leaves nothing behind', () => {
    const folder = join(root, 'new');
    mkdirSync(folder);
    expect(checkReportPath(join(folder, 'r.html'))).toBe(join(folder, 'r.html'));
    expect(readdirSync(folder)).toEqual([]);
  });

  it('accepts an existing report without changing it', () => {
    const path = join(root, 'old.html');
    writeFileSync(path, 'previous report');
    expect(checkReportPath(path)).toBe(path);
    expect(readFileSync(path, 'utf8')).toBe('previous report');
  });

  it('rejects a path in a missing folder, naming --report, the path and the folder', () => {
    const path = join(root, 'missing', 'r.html');
    expect(() => checkReportPath(path)).toThrow(DemoOptionsError);
    expect(() => checkReportPath(path)).toThrow(`--report: cannot write the report to '${path}': its folder '${join(root, 'missing')}' does not exist (ENOENT); create it first`);
  });

  it('rejects a folder, and a path under a file', () => {
    expect(() => checkReportPath(root)).toThrow(`--report: cannot write the report to '${root}': it is a folder; expected a file path such as report.html`);
    const file = join(root, 'plain.txt');
    writeFileSync(file, '');
    expect(() => checkReportPath(join(file, 'r.html'))).toThrow(`--report: cannot write the report to '${join(file, 'r.html')}': '${file}' is not a folder`);
  });

  it.skipIf(process.getuid?.() === 0)('rejects a read-only folder', () => {
    const folder = join(root, 'read-only');
    mkdirSync(folder);
    chmodSync(folder, 0o555);
    expect(() => checkReportPath(join(folder, 'r.html'))).toThrow(`--report: cannot write the report to '${join(folder, 'r.html')}': not writable (EACCES)`);
    chmodSync(folder, 0o755);
  });
});

describe('npm run demo', () => {
  it('checks the report path with the options, before it selects a backend and trains (exit 2, not ENOENT after training)', () => {
    const demo = readFileSync(new URL('../demo.ts', import.meta.url), 'utf8');
    const check = demo.indexOf('checkReportPath(options.report)');
    expect(check).toBeGreaterThan(demo.indexOf('parseDemoOptions(process.argv'));
    expect(check).toBeLessThan(demo.indexOf('process.exit(2)'));
    expect(check).toBeLessThan(demo.indexOf('await selectBackend()'));
    expect(demo).toContain('writeFileSync(reportPath,');
  });
});
