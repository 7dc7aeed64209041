/** Checks, before the demo trains for minutes, that its HTML report can be written where `--report` says. */
import { closeSync, openSync, statSync, unlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DemoOptionsError } from './demo-options.js';

function reason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ?? e.message;
}

/**
 * Returns the absolute path of the report, or throws {@link DemoOptionsError} naming `--report` and the
 * path when its folder is missing or not a folder, the path is a folder, or the file cannot be written.
 * Writes nothing that stays: an existing report is opened for appending (not truncated) and closed; a
 * new one is created exclusively as the probe and removed.
 */
export function checkReportPath(report: string): string {
  const path = resolve(report);
  const folder = dirname(path);
  const fail = (why: string) => new DemoOptionsError(`--report: cannot write the report to '${path}': ${why}`);
  let folderStat;
  try {
    folderStat = statSync(folder);
  } catch (error) {
    throw fail(`its folder '${folder}' does not exist (${reason(error)}); create it first`);
  }
  if (!folderStat.isDirectory()) throw fail(`'${folder}' is not a folder`);
  let existing;
  try {
    existing = statSync(path);
  } catch {
    existing = undefined;
  }
  if (existing?.isDirectory()) throw fail('it is a folder; expected a file path such as report.html');
  try {
    const fd = openSync(path, existing ? 'a' : 'wx');
    closeSync(fd);
    if (!existing) unlinkSync(path);
  } catch (error) {
    throw fail(`not writable (${reason(error)})`);
  }
  return path;
}
