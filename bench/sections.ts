/**
 * Replaces the text between a benchmark's start and end markers in docs/benchmarks.md (markers
 * included in `text`), or appends `text` when the markers are not there yet.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const BENCHMARKS_MD = path.join(__dirname, '..', 'docs', 'benchmarks.md');

export function writeSection(text: string, start: string, end: string, file: string = BENCHMARKS_MD): void {
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const a = current.indexOf(start);
  const b = current.indexOf(end);
  const next = a !== -1 && b > a
    ? current.slice(0, a) + text + current.slice(b + end.length)
    : `${current.replace(/\n*$/, '\n\n')}${text}\n`;
  fs.writeFileSync(file, next);
}
