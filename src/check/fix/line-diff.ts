/**
 * Line diffs for `check --fix`: the edit script that keeps untouched lines byte for byte, and the
 * unified diff `--dry-run` prints. Both come from jsdiff (the `diff` package, Myers' algorithm).
 */
import { diffArrays, FILE_HEADERS_ONLY, formatPatch, structuredPatch } from 'diff';

/** One line of an edit script: kept (`=`), removed from `a` (`-`) or added from `b` (`+`). */
export interface DiffOp {
  readonly op: '=' | '-' | '+';
  /** The line's index in `a` (for `=` and `-`) or in `b` (for `+`). */
  readonly a: number;
  readonly b: number;
}

/** The shortest edit script from `a` to `b`, in order. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffOp[] {
  const ops: DiffOp[] = [];
  let i = 0;
  let j = 0;
  for (const change of diffArrays([...a], [...b])) {
    for (let n = 0; n < change.count; n++) {
      if (change.added) ops.push({ op: '+', a: i, b: j++ });
      else if (change.removed) ops.push({ op: '-', a: i++, b: j });
      else ops.push({ op: '=', a: i++, b: j++ });
    }
  }
  return ops;
}

/** A unified diff of two texts (`--- a` / `+++ b` headers, hunks with `context` lines), or '' when equal. */
export function unifiedDiff(nameA: string, nameB: string, textA: string, textB: string, context = 3): string {
  if (textA === textB) return '';
  return formatPatch(structuredPatch(nameA, nameB, textA, textB, undefined, undefined, { context }), FILE_HEADERS_ONLY);
}
