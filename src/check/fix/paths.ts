/**
 * The field paths of a finding's `fix.set` (`spec.template.spec.containers[web].lifecycle.preStop`,
 * `metadata.annotations["alb.ingress.kubernetes.io/x"]`, `...targetGroupAttributes[key=k].value`),
 * parsed and resolved against one object into the keys and list indexes an editor needs.
 */

/** One step of a field path. */
export type PathStep =
  | { readonly kind: 'key'; readonly key: string }
  /** `[web]`: the list element whose `name` is `web` (or, when none is, the index when numeric). */
  | { readonly kind: 'name'; readonly name: string }
  /** `[key=value]`: the list element whose `key` field is `value`. */
  | { readonly kind: 'match'; readonly field: string; readonly value: string }
  /** `[]`: every element (not resolvable to one edit). */
  | { readonly kind: 'every' };

/** Parses a field path; undefined when it is not one (a kind prefix such as `PodDisruptionBudget.spec` is one: callers check). */
export function parseFieldPath(text: string): PathStep[] | undefined {
  const steps: PathStep[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '.') {
      if (i === 0 || i === text.length - 1) return undefined;
      i++;
      continue;
    }
    if (text[i] === '[') {
      if (text[i + 1] === '"') {
        const end = text.indexOf('"]', i + 2);
        if (end < 0) return undefined;
        let key: unknown;
        try {
          key = JSON.parse(text.slice(i + 1, end + 1));
        } catch {
          return undefined;
        }
        steps.push({ kind: 'key', key: String(key) });
        i = end + 2;
        continue;
      }
      const end = text.indexOf(']', i);
      if (end < 0) return undefined;
      const inner = text.slice(i + 1, end);
      const eq = inner.indexOf('=');
      if (inner === '') steps.push({ kind: 'every' });
      else if (eq > 0) steps.push({ kind: 'match', field: inner.slice(0, eq), value: inner.slice(eq + 1) });
      else steps.push({ kind: 'name', name: inner });
      i = end + 1;
      continue;
    }
    const m = /^[^.[]+/.exec(text.slice(i))!;
    steps.push({ kind: 'key', key: m[0] });
    i += m[0].length;
  }
  return steps.length > 0 ? steps : undefined;
}

/** A concrete path: map keys and list indexes. */
export type ConcretePath = (string | number)[];

/**
 * Resolves steps against an object: list selectors become indexes. Undefined when a selector
 * matches nothing, when it meets something other than a list, or for `[]`.
 */
export function resolvePath(object: unknown, steps: readonly PathStep[]): ConcretePath | undefined {
  const out: ConcretePath = [];
  let current: any = object;
  for (const step of steps) {
    if (step.kind === 'every') return undefined;
    if (step.kind === 'key') {
      out.push(step.key);
      current = current !== null && typeof current === 'object' && !Array.isArray(current) ? current[step.key] : undefined;
      continue;
    }
    if (!Array.isArray(current)) return undefined;
    let index = step.kind === 'name'
      ? current.findIndex((e) => e !== null && typeof e === 'object' && e.name === step.name)
      : current.findIndex((e) => e !== null && typeof e === 'object' && String(e[step.field]) === step.value);
    if (index < 0 && step.kind === 'name' && /^\d+$/.test(step.name) && Number(step.name) < current.length) index = Number(step.name);
    if (index < 0) return undefined;
    out.push(index);
    current = current[index];
  }
  return out;
}

/** The value at a concrete path, or undefined. */
export function valueAt(object: unknown, path: readonly (string | number)[]): unknown {
  let current: any = object;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = current[key];
  }
  return current;
}
