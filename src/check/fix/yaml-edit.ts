/**
 * Applies planned edits to YAML text with the `yaml` package's Document API, then keeps every line
 * the edits did not touch byte for byte: the edited documents are printed, diffed line by line
 * against the unedited documents printed the same way, and only the changed lines are taken from
 * the printout. Comments, key order, quoting and indentation survive.
 */
import { Document, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, ToStringOptions, visit } from 'yaml';
import { diffLines } from './line-diff';
import { FieldEdit } from './plan';

/** The edits to the object that starts at `line`:`column` (1-based) of the text. */
export interface LocatedEdits {
  readonly line: number;
  readonly column: number;
  readonly edits: readonly FieldEdit[];
  /** Objects to write after it: a document of their own, or items of the same `List`. */
  readonly added?: readonly { readonly [key: string]: unknown }[];
}

/** How the text indents, so the printout matches it: sequences under their key or not, and the step. */
function styleOf(text: string): ToStringOptions {
  let flat = 0;
  let indented = 0;
  let step = 0;
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const key = /^(\s*)(?:- )?[^\s#-][^#]*:\s*(?:#.*)?$/.exec(lines[i]);
    if (key === null) continue;
    const base = key[1].length + (/^\s*- /.test(lines[i]) ? 2 : 0);
    const next = /^(\s*)(- )?\S/.exec(lines[i + 1]);
    if (next === null) continue;
    if (next[2] !== undefined) {
      if (next[1].length === base) flat++; else if (next[1].length > base) indented++;
    } else if (step === 0 && next[1].length > base) {
      step = next[1].length - base;
    }
  }
  return { indentSeq: indented >= flat, indent: step > 0 && step <= 8 ? step : 2, lineWidth: 0, minContentWidth: 0, flowCollectionPadding: false };
}

/** Where each object starts (`line:column`): its document and the path to it (a top-level object, or an item of a `List`). */
function indexObjects(docs: readonly Document[], lineCounter: LineCounter): Map<string, { doc: Document; path: (string | number)[] }> {
  const index = new Map<string, { doc: Document; path: (string | number)[] }>();
  const put = (node: unknown, doc: Document, path: (string | number)[]) => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (range === undefined) return;
    const pos = lineCounter.linePos(range[0]);
    index.set(`${pos.line}:${pos.col}`, { doc, path });
  };
  for (const doc of docs) {
    put(doc.contents, doc, []);
    const items = isMap(doc.contents) ? doc.contents.get('items', true) : undefined;
    if (isSeq(items)) items.items.forEach((item, i) => put(item, doc, ['items', i]));
  }
  return index;
}

/**
 * Edits one file's text. Throws when an object is not where the audit found it (the file changed
 * underneath).
 */
export function editYamlText(text: string, objects: readonly LocatedEdits[], file: string): string {
  if (objects.length === 0) return text;
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, keepSourceTokens: false });
  if (!Array.isArray(docs)) throw new Error(`${file}: no YAML documents to edit`);
  const options = styleOf(text);
  const before = docs.map((d) => d.toString(options));
  const addedAfter = new Map<Document, string[]>();
  const index = indexObjects(docs, lineCounter);
  for (const target of objects) {
    const found = index.get(`${target.line}:${target.column}`);
    if (found === undefined) throw new Error(`${file}:${target.line}:${target.column}: no object starts here any more`);
    const { doc, path: base } = found;
    for (const object of target.added ?? []) {
      if (base.length > 0) {
        doc.addIn(['items'], doc.createNode(object));
      } else {
        addedAfter.set(doc, [...(addedAfter.get(doc) ?? []), `---\n${new Document(object).toString(options)}`]);
      }
    }
    for (const edit of target.edits) {
      const path = [...base, ...edit.path];
      if (edit.value === null) {
        if (doc.hasIn(path)) doc.deleteIn(path);
        continue;
      }
      const existing = doc.getIn(path, true);
      if (isScalar(existing) && (typeof edit.value !== 'object')) {
        existing.value = edit.value;
        // A quoted number stays a string and a plain string stays plain only where it reads back the same.
        if (typeof edit.value === 'string' && existing.type === 'PLAIN') existing.type = undefined;
      } else {
        const node = doc.createNode(edit.value);
        // A list of words (a command) reads best on one line, as in `command: ["/bin/sh", "-c", "sleep 25"]`.
        visit(node, { Seq: (_key, seq) => { if (seq.items.every(isScalar)) seq.flow = true; } });
        doc.setIn(path, node);
      }
    }
  }
  const after = docs.map((d) => [d.toString(options), ...(addedAfter.get(d) ?? [])].join(''));
  return mergeLines(text, before, after);
}

/** The lines of a printout that ends with a newline. */
function printedLines(text: string): string[] {
  return text.split('\n').slice(0, -1);
}

/**
 * `original` with the changes from `before` to `after` (the documents printed before and after the
 * edits) applied line by line, document by document; `after` itself when `before` does not line up
 * with `original` (a printout that moved lines).
 */
function mergeLines(original: string, before: readonly string[], after: readonly string[]): string {
  const finalNewline = original.endsWith('\n');
  const o = (finalNewline ? original : `${original}\n`).split('\n').slice(0, -1);
  // Windows line ends: the printout has none, new lines get them like their neighbours.
  const crlf = o.filter((line) => line.endsWith('\r')).length > o.length / 2;
  const eol = crlf ? '\r' : '';
  const beforeLines = before.map(printedLines);
  if (beforeLines.reduce((n, lines) => n + lines.length, 0) !== o.length) {
    const printed = after.join('');
    return crlf ? printed.replace(/\r?\n/g, '\r\n') : printed;
  }
  const out: string[] = [];
  let offset = 0;
  beforeLines.forEach((a, i) => {
    if (before[i] === after[i]) {
      // One by one: a spread of a long document's lines into push() overflows the stack.
      for (let line = offset; line < offset + a.length; line++) out.push(o[line]);
    } else {
      const b = printedLines(after[i]);
      for (const op of diffLines(a, b)) {
        if (op.op === '=') out.push(o[offset + op.a]);
        else if (op.op === '+') out.push(`${b[op.b]}${eol}`);
      }
    }
    offset += a.length;
  });
  const text = out.join('\n');
  return finalNewline ? `${text}\n` : text;
}
