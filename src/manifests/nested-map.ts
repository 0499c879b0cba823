/**
 * Maps keyed by two or three strings, one `Map` per key part. Indexes over thousands of objects
 * (namespace, name; namespace, label, value) look up the strings the parser already made, whose
 * hashes V8 keeps, instead of joining a new key string per lookup and hashing it: in bench:check's
 * profile, building and hashing joined keys was a fifth of the audit.
 *
 * @internal
 */
export class Map2<V> {
  private readonly outer = new Map<string, Map<string, V>>();

  public get(a: string, b: string): V | undefined {
    return this.outer.get(a)?.get(b);
  }

  public has(a: string, b: string): boolean {
    return this.outer.get(a)?.has(b) ?? false;
  }

  public set(a: string, b: string, value: V): void {
    let inner = this.outer.get(a);
    if (inner === undefined) this.outer.set(a, inner = new Map());
    inner.set(b, value);
  }
}

/** @internal */
export class Map3<V> {
  private readonly outer = new Map<string, Map2<V>>();

  public get(a: string, b: string, c: string): V | undefined {
    return this.outer.get(a)?.get(b, c);
  }

  public set(a: string, b: string, c: string, value: V): void {
    let inner = this.outer.get(a);
    if (inner === undefined) this.outer.set(a, inner = new Map2());
    inner.set(b, c, value);
  }
}

/** Appends `item` to the list at the keys, starting the list when there is none. @internal */
export function push3<E>(map: Map3<E[]>, a: string, b: string, c: string, item: E): void {
  const list = map.get(a, b, c);
  if (list === undefined) map.set(a, b, c, [item]); else list.push(item);
}

/**
 * A map keyed by a fixed-length tuple of primitives (numbers, booleans, undefined; compared as
 * `Map` keys are), one `Map` per position: no key string is built per lookup. Counts its entries so
 * a cache can bound itself.
 *
 * @internal
 */
export class TupleMap<V> {
  private root = new Map<unknown, any>();
  private count = 0;

  public get size(): number {
    return this.count;
  }

  public get(keys: readonly unknown[]): V | undefined {
    let at: Map<unknown, any> | undefined = this.root;
    for (let i = 0; i < keys.length - 1 && at !== undefined; i++) at = at.get(keys[i]);
    return at?.get(keys[keys.length - 1]);
  }

  public set(keys: readonly unknown[], value: V): void {
    let at = this.root;
    for (let i = 0; i < keys.length - 1; i++) {
      let next = at.get(keys[i]);
      if (next === undefined) at.set(keys[i], next = new Map());
      at = next;
    }
    if (!at.has(keys[keys.length - 1])) this.count++;
    at.set(keys[keys.length - 1], value);
  }

  public clear(): void {
    this.root = new Map();
    this.count = 0;
  }
}
