/**
 * The one place where benchmarks write their figures into Markdown: each benchmark owns the text
 * between its start and end markers in docs/benchmarks.md (and, for bench:rollout, a few marked
 * spans of README.md), and replaces only that.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const BENCHMARKS_MD = path.join(__dirname, '..', 'docs', 'benchmarks.md');

/**
 * `doc` with the text between `start` and `end` (markers included) replaced by `text`, which
 * carries the markers itself; `text` is appended after a blank line when the markers are not there.
 */
export function replaceSection(doc: string, text: string, start: string, end: string): string {
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a !== -1 && b > a) return doc.slice(0, a) + text + doc.slice(b + end.length);
  return `${doc.trimEnd()}\n\n${text}\n`;
}

/** Applies {@link replaceSection} to a file (docs/benchmarks.md unless given); a missing file starts as `# Benchmarks`. */
export function writeSection(text: string, start: string, end: string, file: string = BENCHMARKS_MD): void {
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  fs.writeFileSync(file, replaceSection(current, text, start, end));
}

/**
 * `doc` with the lines between `<!-- name:start -->` and `<!-- name:end -->` replaced by `text`
 * (markers kept). Throws when the markers are missing: a README span is never appended.
 */
export function replaceMarked(doc: string, name: string, text: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${start} ... ${end} section`);
  return `${doc.slice(0, a + start.length)}\n${text}\n${doc.slice(b)}`;
}
