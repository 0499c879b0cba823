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

/** The path from the document's root to the object at a position (a top-level object, or an item of a `List`). */
function objectPath(doc: Document, line: number, column: number, lineCounter: LineCounter): (string | number)[] | undefined {
  const at = (node: unknown) => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (range === undefined) return false;
    const pos = lineCounter.linePos(range[0]);
    return pos.line === line && pos.col === column;
  };
  if (at(doc.contents)) return [];
  const items = isMap(doc.contents) ? doc.contents.get('items', true) : undefined;
  if (isSeq(items)) {
    const index = items.items.findIndex(at);
    if (index >= 0) return ['items', index];
  }
  return undefined;
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
  const before = docs.map((d) => d.toString(options)).join('');
  const addedAfter = new Map<Document, string[]>();
  for (const target of objects) {
    let base: (string | number)[] | undefined;
    const doc = docs.find((d) => (base = objectPath(d, target.line, target.column, lineCounter)) !== undefined);
    if (doc === undefined || base === undefined) throw new Error(`${file}:${target.line}:${target.column}: no object starts here any more`);
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
  const after = docs.map((d) => [d.toString(options), ...(addedAfter.get(d) ?? [])].join('')).join('');
  return mergeLines(text, before, after);
}

/**
 * `original` with the changes from `before` to `after` applied line by line; `after` itself when
 * `before` does not line up with `original` (a printout that moved lines).
 */
function mergeLines(original: string, before: string, after: string): string {
  const o = original.split('\n');
  const a = before.split('\n');
  const b = after.split('\n');
  // Windows line ends: the printout has none, new lines get them like their neighbours.
  const crlf = o.filter((line) => line.endsWith('\r')).length > o.length / 2;
  if (a.length !== o.length) return crlf ? after.replace(/\r?\n/g, '\r\n') : after;
  const out: string[] = [];
  for (const op of diffLines(a, b)) {
    if (op.op === '=') out.push(o[op.a]);
    else if (op.op === '+') out.push(crlf && op.b < b.length - 1 ? `${b[op.b]}\r` : b[op.b]);
  }
  return out.join('\n');
}
