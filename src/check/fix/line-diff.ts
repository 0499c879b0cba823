/** Line diffs (Myers' O((N+M)D) algorithm) and unified-diff text for `check --fix --dry-run`. */

/** One line of an edit script: kept (`=`), removed from `a` (`-`) or added from `b` (`+`). */
export interface DiffOp {
  readonly op: '=' | '-' | '+';
  /** The line's index in `a` (for `=` and `-`) or in `b` (for `+`). */
  readonly a: number;
  readonly b: number;
}

/** The shortest edit script from `a` to `b`, in order. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffOp[] {
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (suffix < a.length - prefix && suffix < b.length - prefix && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
  const n = a.length - prefix - suffix;
  const m = b.length - prefix - suffix;
  const ops: DiffOp[] = [];
  for (let i = 0; i < prefix; i++) ops.push({ op: '=', a: i, b: i });
  ops.push(...middle(a, b, prefix, n, m));
  for (let k = 0; k < suffix; k++) ops.push({ op: '=', a: a.length - suffix + k, b: b.length - suffix + k });
  return ops;
}

function middle(a: readonly string[], b: readonly string[], offset: number, n: number, m: number): DiffOp[] {
  const max = n + m;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    // Only diagonals -d..d can be read back at this step: keep that slice (O(D²) memory, not O(D·N)).
    trace.push(v.slice(max - d, max + d + 1));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[max + k - 1] < v[max + k + 1]) ? v[max + k + 1] : v[max + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[offset + x] === b[offset + y]) {
        x++;
        y++;
      }
      v[max + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk back through the saved frontiers.
  const ops: DiffOp[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    const prev = trace[d];
    const at = (diagonal: number) => prev[diagonal + d];
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      ops.push({ op: '=', a: offset + x, b: offset + y });
    }
    if (down) ops.push({ op: '+', a: offset + x, b: offset + prevY });
    else ops.push({ op: '-', a: offset + prevX, b: offset + y });
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    ops.push({ op: '=', a: offset + x, b: offset + y });
  }
  return ops.reverse();
}

/** The lines of a text; a last line without its newline is marked with a NUL at its end. */
function lines(text: string): string[] {
  if (text === '') return [];
  const out = text.split('\n');
  if (out[out.length - 1] === '') out.pop();
  else out[out.length - 1] += '\u0000';
  return out;
}

/** A unified diff of two texts (`--- a` / `+++ b` headers, hunks with `context` lines), or '' when equal. */
export function unifiedDiff(nameA: string, nameB: string, textA: string, textB: string, context = 3): string {
  if (textA === textB) return '';
  const a = lines(textA);
  const b = lines(textB);
  const ops = diffLines(a, b);
  const out = [`--- ${nameA}`, `+++ ${nameB}`];
  let i = 0;
  while (i < ops.length) {
    if (ops[i].op === '=') {
      i++;
      continue;
    }
    // A hunk: from `context` lines before this change to `context` lines after the last change
    // that is within 2 × context of the previous one.
    const start = Math.max(0, i - context);
    let end = i;
    let last = i;
    while (end < ops.length && end - last <= 2 * context) {
      if (ops[end].op !== '=') last = end;
      end++;
    }
    end = Math.min(ops.length, last + context + 1);
    const hunk = ops.slice(start, end);
    const aStart = hunk.find((o) => o.op !== '+')?.a ?? hunk[0].a;
    const bStart = hunk.find((o) => o.op !== '-')?.b ?? hunk[0].b;
    const aCount = hunk.filter((o) => o.op !== '+').length;
    const bCount = hunk.filter((o) => o.op !== '-').length;
    out.push(`@@ -${aCount === 0 ? aStart : aStart + 1},${aCount} +${bCount === 0 ? bStart : bStart + 1},${bCount} @@`);
    for (const o of hunk) {
      const [line, side] = o.op === '+' ? [`+${b[o.b]}`, b] : [`${o.op === '-' ? '-' : ' '}${a[o.a]}`, a];
      out.push(line.replace(/\u0000$/, ''));
      // The last line of a text without a final newline says so, as diff(1) does.
      if (line.endsWith('\u0000') && side === (o.op === '+' ? b : a)) out.push('\\ No newline at end of file');
    }
    i = end;
  }
  return out.join('\n') + '\n';
}
