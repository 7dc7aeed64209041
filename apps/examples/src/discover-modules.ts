/** Finds the ladder's and the reproductions' modules by name in a directory, so new files need no registry. */
import { readdirSync } from 'node:fs';

/** The `.js` / `.ts` module files of `dir` (tests and declaration files excluded), sorted. */
export function moduleFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.(js|ts)$/.test(f) && !/\.(test|d)\.(js|ts)$/.test(f))
    .sort();
}

/** The ladder example numbered `nn` (two digits, e.g. `'04'`) in `dir`, e.g. `04-lstm-moe-language-model.js`. */
export function findExample(dir: string, nn: string): string | undefined {
  return moduleFiles(dir).find((f) => f.startsWith(`${nn}-`));
}

/** Every ladder example in `dir`: files starting with two digits and a dash. */
export function listExamples(dir: string): string[] {
  return moduleFiles(dir).filter((f) => /^\d\d-/.test(f));
}

/** The reproduction names in `dir` (file names without extension). */
export function listReproductions(dir: string): string[] {
  return moduleFiles(dir).map((f) => f.replace(/\.(js|ts)$/, ''));
}
